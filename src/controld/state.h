/* state.h — the control server's own SQLite database: what survives a
 * restart.
 *
 *   diagnosis(num, tenant, state, created, ends, stopped, reason,
 *             collect, parse, collect_name, parse_name)
 *   trace(diag, idx, name, node, point, direction, pattern, tables,
 *         host, ofport, tag, bit, match, sampling, snaplen, parse_text,
 *         stored, bytes,          -- stored/bytes: last counters seen
 *         flow_sampling,          -- mirror: 1 flow in N copied by the switch
 *         sampling_method)        -- "count" or "hash" (the table server's Sampling)
 *   collector_target(host, kind, target)
 *                              -- where each host's table server collects
 *                                 kind 'sflow' or 'ipfix', as it last said:
 *                                 the bridge's sFlow agent and IPFIX
 *                                 exporter are re-applied from it after a
 *                                 restart
 *   audit(ts, tenant, action, diagnosis, status, detail)
 *
 * A diagnosis is "d<num>" to its tenant; <num> is never reused, so an old
 * rule's cookie can never be mistaken for a new diagnosis's. */
#ifndef VND_CONTROLD_STATE_H
#define VND_CONTROLD_STATE_H

#include <sqlite3.h>
#include <stdbool.h>

int vnd_state_open(const char *path, sqlite3 **db, char **err);

/* Runs `sql` with text/int/double arguments described by `types`
 * ('s' char*, 'i' int, 'I' long long, 'd' double, 'n' NULL).  Returns 0 or
 * -1 and logs. */
int vnd_state_exec(sqlite3 *db, const char *sql, const char *types, ...);

/* Prepares `sql` with its arguments bound, for the caller to step. */
sqlite3_stmt *vnd_state_query(sqlite3 *db, const char *sql, const char *types, ...);

/* One audit line: who did what to which diagnosis, and how it went. */
void vnd_state_audit(sqlite3 *db, const char *tenant, const char *action, const char *diag,
                     int status, const char *detail);

#endif
