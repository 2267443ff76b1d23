/* suggest.h — "did you mean ip.src?" for misspelt field names. */
#ifndef VND_LANG_SUGGEST_H
#define VND_LANG_SUGGEST_H

#include <stddef.h>

/* Writes " (did you mean X?)" into buf when a registry field name or alias,
 * or one of `extra` (NULL-terminated, may be NULL), is within a small edit
 * distance of the n bytes at `name`; else an empty string. */
void vnd_suggest_field(const char *name, size_t n, const char *const *extra,
                       char *buf, size_t size);

#endif
