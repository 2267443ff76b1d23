/* log.c — leveled log lines, reopened on SIGHUP. */
#include "daemon/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;           /* NULL: stderr */
static char *log_path;
static enum vnd_log_level log_level = VND_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

int vnd_log_level_parse(const char *s, enum vnd_log_level *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, names[i])) {
            *out = (enum vnd_log_level)i;
            return 0;
        }
    return -1;
}

int vnd_log_open(const char *path, enum vnd_log_level level)
{
    log_level = level;
    if (!path)
        return 0;
    FILE *f = fopen(path, "a");
    if (!f)
        return errno;
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&log_lock);
    log_file = f;
    free(log_path);
    log_path = strdup(path);
    pthread_mutex_unlock(&log_lock);
    return 0;
}

int vnd_log_reopen(void)
{
    if (!log_path)
        return 0;
    FILE *f = fopen(log_path, "a");
    if (!f)
        return errno;
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&log_lock);
    FILE *old = log_file;
    log_file = f;
    pthread_mutex_unlock(&log_lock);
    if (old)
        fclose(old);
    return 0;
}

void vnd_log_close(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    free(log_path);
    log_path = NULL;
    pthread_mutex_unlock(&log_lock);
}

void vnd_log(enum vnd_log_level level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(log_file ? log_file : stderr, "%s.%03ldZ %-5s %s\n", when, ts.tv_nsec / 1000000,
            names[level], msg);
    pthread_mutex_unlock(&log_lock);
}
