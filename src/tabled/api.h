/* api.h — the control API over HTTP (libmicrohttpd, a thread per
 * connection).  Routes and bodies are checked by api/request.h; every
 * request must carry `Authorization: Bearer <secret>`.  Answers are JSON
 * (errors: {"error": "..."} with a 4xx/5xx status); query results and
 * pcap downloads stream. */
#ifndef VND_TABLED_API_H
#define VND_TABLED_API_H

#include "tabled/tabled.h"

struct vnd_api;

/* Listens on `listen` ("HOST:PORT", "[v6]:PORT" or ":PORT" for every
 * address).  Returns 0, or errno and *err. */
int vnd_api_start(struct vnd_tabled *td, const char *listen, struct vnd_api **out, char **err);
void vnd_api_stop(struct vnd_api *a);

#endif
