/* service.h — what every VND daemon does the same way at its start: read
 * its secret file, and tell systemd (Type=notify) that it is up. */
#ifndef VND_DAEMON_SERVICE_H
#define VND_DAEMON_SERVICE_H

/* Reads a secret: one line of at least 16 characters (blanks around it
 * cut).  Warns when other users can read the file.  Returns 0 and *out
 * (malloc'd), or errno after logging why. */
int vnd_daemon_read_secret(const char *path, char **out);

/* Sends READY=1 to $NOTIFY_SOCKET, without libsystemd. */
void vnd_daemon_notify_ready(void);

#endif
