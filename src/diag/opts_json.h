/* opts_json.h — a diagnostic application's options from outside the
 * program: as JSON (the table server's POST /v1/diag, the control server
 * that forwards it) and, through the same checks, from the text of
 * `vnd diag`'s command line.
 *
 * The JSON is an object whose keys mirror the long options:
 *
 *   "table" (-t), "in", "out", "field"   a table or column name (non-empty)
 *   "where"                            a filter, parse-configuration language
 *   "path", "fields"                   arrays of names, at most 16
 *   "slot"                             seconds, >= 1e-9 (a nanosecond)
 *   "window"                           seconds, >= 0
 *   "by"                               "id" | "payload" | "order"
 *   "kind"                             "all" | "handshake" | "data" | "fin"
 *   "by_flow", "list"                  true | false
 *   "since", "until"                   numbers (ts): only rows with
 *                                      since <= ts < until
 *
 * Absent keys keep vnd_diag_opts_init's defaults.  Strict: an unknown key,
 * null or a value of another type is refused with a message naming the
 * key.  (origin and pg are the program's own business, not options.) */
#ifndef VND_DIAG_OPTS_JSON_H
#define VND_DIAG_OPTS_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "diag/diag.h"

/* Fills *o (vnd_diag_opts_init first, then the keys of `j`, an object).
 * Strings are borrowed from `j`, which must outlive *o.  Returns 0, or -1
 * and a malloc'd *err. */
int vnd_diag_opts_from_json(const json_t *j, struct vnd_diag_opts *o, char **err);

/* The options that differ from vnd_diag_opts_init's defaults, as an object
 * vnd_diag_opts_from_json reads back to the same options (new reference),
 * or NULL when a name is not valid UTF-8 (JSON cannot carry it). */
json_t *vnd_diag_opts_to_json(const struct vnd_diag_opts *o);

/* ---- the checks the JSON and `vnd diag` share ----
 * `name` is the option as its writer spelt it ("--slot", "\"slot\""); the
 * messages name it.  Each returns 0, or -1 and a malloc'd *err. */

/* A table or column name: not empty. */
int vnd_diag_opt_name(const char *name, const char *s, const char **dst, char **err);
/* One more name onto a list of at most `max` (path, fields). */
int vnd_diag_opt_add(const char *name, const char *s, const char **list, int *n, int max,
                     char **err);
/* Seconds: finite and >= 0, or >= VND_DIAG_SLOT_MIN when `positive`
 * (slot). */
#define VND_DIAG_SLOT_MIN 1e-9
int vnd_diag_opt_seconds(const char *name, double v, bool positive, double *dst, char **err);
/* The same from text ("0.25"). */
int vnd_diag_opt_seconds_text(const char *name, const char *s, bool positive, double *dst,
                              char **err);
/* "id", "payload" or "order". */
int vnd_diag_opt_by(const char *name, const char *s, enum vnd_diag_by *dst, char **err);
const char *vnd_diag_by_name(enum vnd_diag_by by);
/* "all", "handshake", "data" or "fin" (rtt --kind). */
int vnd_diag_opt_rtt_kind(const char *name, const char *s, enum vnd_rtt_kind *dst, char **err);
const char *vnd_diag_rtt_kind_name(enum vnd_rtt_kind k);

#endif
