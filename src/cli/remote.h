/* remote.h — `vnd` commands against the control server (vnd-controld):
 * what cmd_service.c's commands share, and the --diagnosis paths of
 * `vnd query` and `vnd diag`, which send their work to the API instead of
 * opening a trace database (docs/api/controld.yaml). */
#ifndef VND_CLI_REMOTE_H
#define VND_CLI_REMOTE_H

#include <stdbool.h>
#include <stdio.h>

#include "api/client.h"
#include "diag/diag.h"
#include "output/output.h"

/* Options every API command takes (getopt_long values). */
enum { VND_REMOTE_OPT_URL = 3001, VND_REMOTE_OPT_TOKEN, VND_REMOTE_OPT_DIAGNOSIS };

/* The help text lines of --url and --token, and of the environment. */
#define VND_REMOTE_HELP_OPTS                                                            \
    "      --url URL        the control server (default: $VND_URL)\n"                     \
    "      --token T        your tenant token (default: $VND_TOKEN)\n"
#define VND_REMOTE_HELP_ENV                                                             \
    "environment:\n"                                                                    \
    "  VND_URL              the control server, e.g. http://controller:7400\n"          \
    "  VND_TOKEN            your tenant token (sent as Authorization: Bearer)\n"

/* The client for `vnd CMD`, or -1 with the reason printed ("vnd CMD: ..."). */
int vnd_remote_client(struct vnd_client *c, const char *cmd, const char *url,
                      const char *token);

/* True when `id` can be a diagnosis or trace id (letters, digits, '_',
 * '-'); else false with "vnd CMD: WHAT 'ID' ..." printed. */
bool vnd_remote_name_ok(const char *cmd, const char *what, const char *id);

/* `vnd query --diagnosis ID`: the rows streamed to stdout.  Returns the
 * exit status (0; 1 the server refused or failed). */
int vnd_remote_query(const char *url, const char *token, const char *id, const char *sql,
                     enum vnd_fmt fmt);

/* `vnd diag APP --diagnosis ID`: one run (plot: the server draws it), or
 * with `follow` a run every `interval` seconds asking only for rows past
 * the last t received, until SIGINT/SIGTERM.  Returns the exit status. */
int vnd_remote_diag(const char *url, const char *token, const char *id,
                    const struct vnd_diag_app *app, const struct vnd_diag_opts *o,
                    enum vnd_fmt fmt, bool plot, bool follow, double interval);

/* A JSON value as one cell: null, integers, reals, strings as such; true
 * and false as 1 and 0; arrays and objects as their compact JSON text. */
void vnd_remote_cell(struct vnd_out *o, const json_t *v);

#endif
