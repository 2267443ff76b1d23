/* log.h — a daemon's log (vnd-tabled, the control server): one line per
 * event with time, level and message, to stderr (systemd's journal) or a
 * file that SIGHUP reopens (for logrotate).  Thread-safe. */
#ifndef VND_DAEMON_LOG_H
#define VND_DAEMON_LOG_H

enum vnd_log_level { VND_LOG_ERROR, VND_LOG_WARN, VND_LOG_INFO, VND_LOG_DEBUG };

/* "error", "warn", "info" or "debug" → 0 and *out; else -1. */
int vnd_log_level_parse(const char *s, enum vnd_log_level *out);

/* Logs to `path` (appending), or to stderr when NULL.  Returns 0 or errno. */
int vnd_log_open(const char *path, enum vnd_log_level level);

/* Reopens the file (after SIGHUP).  Keeps the old one on failure. */
int vnd_log_reopen(void);
void vnd_log_close(void);

void vnd_log(enum vnd_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define vnd_err(...) vnd_log(VND_LOG_ERROR, __VA_ARGS__)
#define vnd_warn(...) vnd_log(VND_LOG_WARN, __VA_ARGS__)
#define vnd_info(...) vnd_log(VND_LOG_INFO, __VA_ARGS__)
#define vnd_debug(...) vnd_log(VND_LOG_DEBUG, __VA_ARGS__)

#endif
