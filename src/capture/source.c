/* source.c — dispatch through a capture source's operations. */
#include "capture/source.h"

#include <stdlib.h>
#include <string.h>

int vnd_source_start(struct vnd_source *s)
{
    return s->cls->start(s);
}

void vnd_source_stop(struct vnd_source *s)
{
    if (s)
        s->cls->stop(s);
}

void vnd_source_free(struct vnd_source *s)
{
    if (!s)
        return;
    s->cls->stop(s);
    char *name = s->name;
    s->cls->destroy(s);
    free(name);
}

const char *vnd_source_name(const struct vnd_source *s)
{
    return s->name;
}

const char *vnd_source_kind(const struct vnd_source *s)
{
    return s->cls->kind;
}

void vnd_source_stats(const struct vnd_source *s, struct vnd_source_stats *st)
{
    memset(st, 0, sizeof *st);
    s->cls->stats(s, st);
}

uint64_t vnd_source_tag_drops(const struct vnd_source *s, int tag)
{
    return s->cls->tag_drops && tag >= 0 && tag < VND_TAGS ? s->cls->tag_drops(s, tag) : 0;
}

const char *vnd_source_error(const struct vnd_source *s)
{
    return s->cls->error ? s->cls->error(s) : NULL;
}
