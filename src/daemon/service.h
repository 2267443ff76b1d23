/* service.h — what every VND daemon does the same way at its start: read
 * its secret file, and tell systemd (Type=notify) that it is up. */
#ifndef VND_DAEMON_SERVICE_H
#define VND_DAEMON_SERVICE_H

/* Reads a secret: one line of at least 16 characters (blanks around it
 * cut).  Warns when other users can read the file.  Returns 0 and *out
 * (malloc'd), or errno after logging why. */
int vnd_daemon_read_secret(const char *path, char **out);

/* Signals, the same in every daemon: SIGTERM/SIGINT set vnd_daemon_stop
 * (to the signal's number), SIGHUP sets vnd_daemon_hup, SIGPIPE is
 * ignored.  Only the main thread takes them: vnd_daemon_block_signals
 * before starting threads (they inherit the mask), then
 * vnd_daemon_catch_signals with what it returned in *old. */
#include <signal.h>

extern volatile sig_atomic_t vnd_daemon_stop, vnd_daemon_hup;
void vnd_daemon_block_signals(sigset_t *old);
void vnd_daemon_catch_signals(const sigset_t *old);

/* Opens the log from --log-file FILE (NULL: stderr) and --log-level L
 * (NULL: info), saying on stderr what is wrong as PROG: ...  Returns 0,
 * 2 for a bad level (a usage error) or 1 when the file cannot be opened. */
int vnd_daemon_open_log(const char *prog, const char *file, const char *level);

/* Sends READY=1 to $NOTIFY_SOCKET, without libsystemd. */
void vnd_daemon_notify_ready(void);

#endif
