/* tsclient.h — the control server's side of the table server API
 * (src/api/request.h), on libcurl: calls with a JSON answer, and answers
 * streamed through (query rows, app output, pcap) a piece at a time so
 * that the control server never holds a whole result. */
#ifndef VND_CONTROL_TSCLIENT_H
#define VND_CONTROL_TSCLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/* METHOD url+path with `body` (borrowed; NULL: none).  Returns 0 with the
 * HTTP status in *status and the answer parsed in *reply (NULL when it is
 * not JSON), or -1 and *err when the table server could not be reached. */
int vnd_ts_call(const char *url, const char *secret, const char *method, const char *path,
                json_t *body, long *status, json_t **reply, char **err);

struct vnd_ts_stream;

/* Starts METHOD url+path and waits for the answer's head.  Returns the
 * stream (its status and type known), or NULL and *err. */
struct vnd_ts_stream *vnd_ts_stream_open(const char *url, const char *secret,
                                         const char *method, const char *path, json_t *body,
                                         double timeout, char **err);
long vnd_ts_stream_status(const struct vnd_ts_stream *s);
const char *vnd_ts_stream_type(const struct vnd_ts_stream *s);
/* Up to `max` bytes of the body: >0, 0 at its end, -1 when it broke off. */
ssize_t vnd_ts_stream_read(struct vnd_ts_stream *s, char *buf, size_t max);
/* The whole rest of the body (for error answers; malloc'd). */
char *vnd_ts_stream_slurp(struct vnd_ts_stream *s, size_t max);
void vnd_ts_stream_close(struct vnd_ts_stream *s);

#endif
