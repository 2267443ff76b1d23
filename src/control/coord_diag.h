/* coord_diag.h — a diagnostic application run on the coordinator in the
 * distributed mode: its PostgreSQL SQL (`vnd diag --show-sql --pg`) under
 * the tenant's role, checked against the tenant's views, with the rows,
 * plot and bottleneck verdict of vnd_diag_report (diag/runner.h). */
#ifndef VND_CONTROL_COORD_DIAG_H
#define VND_CONTROL_COORD_DIAG_H

#include "control/coordinator.h"
#include "diag/runner.h"

/* Runs `app` with `o` in session `s`, its result to v->out as
 * vnd_diag_report writes it.  With `sql` non-NULL only the SQL is made:
 * *sql (malloc'd).  Returns 0, or an HTTP status and a malloc'd *err for
 * the tenant. */
int vnd_coord_diag(struct vnd_coord_session *s, const struct vnd_diag_app *app,
                   const struct vnd_diag_opts *o, const struct vnd_diag_view *v, char **sql,
                   char **err);

#endif
