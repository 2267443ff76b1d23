/* sb.h — a growing SQL string, with the quoting both SQL dialects (SQLite,
 * PostgreSQL) read alike.  Out of memory aborts. */
#ifndef VND_UTIL_SB_H
#define VND_UTIL_SB_H

#include <stddef.h>

struct vnd_sb {
    char *s;
    size_t n, cap;
};

void vnd_sb_printf(struct vnd_sb *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends `name` as a quoted SQL identifier ("a""b"). */
void vnd_sb_ident(struct vnd_sb *sb, const char *name);
/* Appends `s` as an SQL string literal ('it''s'). */
void vnd_sb_str(struct vnd_sb *sb, const char *s);
/* Appends a number in a form both SQL dialects read back exactly. */
void vnd_sb_real(struct vnd_sb *sb, double v);
void vnd_sb_free(struct vnd_sb *sb);
/* Takes the string out (the caller frees it); sb is left empty. */
char *vnd_sb_take(struct vnd_sb *sb);

#endif
