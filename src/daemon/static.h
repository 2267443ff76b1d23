/* static.h — a daemon's static files: the web console's HTML, CSS and
 * JavaScript, served from one folder on the API's own listener, without a
 * token (they hold no data: every datum comes from the API, with the
 * token the page sends).
 *
 * Only GET and HEAD; only names of letters, digits, '.', '_', '-' per
 * segment, none starting with '.' (so no "..", no hidden files, no empty
 * segment), only regular files with a known extension (its MIME type):
 * no directory listing, no path out of the folder.  Every answer carries
 * a strict Content-Security-Policy (scripts, styles and connections to
 * this origin only, no inline script or style, no frames) and
 * `X-Content-Type-Options: nosniff` (docs/console.md). */
#ifndef VND_DAEMON_STATIC_H
#define VND_DAEMON_STATIC_H

#include <microhttpd.h>
#include <stdbool.h>

#define VND_STATIC_CSP                                                                       \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "       \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/* True when `url` is the console's: "/" (ROOT/index.html) or "/console/"
 * and below ("/console/" is ROOT/index.html, "/console/a/b.js" is
 * ROOT/a/b.js).  Other paths are the caller's. */
bool vnd_static_is_console(const char *url);

/* Answers a console path from the folder `root` (NULL: no console, 404):
 * the file, 404 for anything that is not a servable file, 405 for a
 * method other than GET or HEAD. */
enum MHD_Result vnd_static_serve(struct MHD_Connection *mc, const char *root,
                                 const char *method, const char *url);

/* The MIME type of a file name by its extension, or NULL when it is not
 * one the console serves. */
const char *vnd_static_mime(const char *name);

/* The default folder of a program's static files: DIR/../www next to the
 * running binary when it holds index.html (the source tree: build/prog),
 * else `installed` (e.g. /usr/share/vnd/www).  Malloc'd. */
char *vnd_static_default_root(const char *installed);

#endif
