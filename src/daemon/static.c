/* static.c — the console's files from one folder (static.h). */
#include "daemon/static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

#define PATH_MAX_SERVED 255

static const struct {
    const char *ext, *type;
} mime[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

const char *vnd_static_mime(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof mime / sizeof *mime; i++)
        if (!strcmp(dot, mime[i].ext))
            return mime[i].type;
    return NULL;
}

bool vnd_static_is_console(const char *url)
{
    return !strcmp(url, "/") || !strcmp(url, "/console") || !strncmp(url, "/console/", 9);
}

/* The file under the folder that `url` names ("index.html" for the
 * console's root), or NULL when it is not a name the console serves. */
static const char *file_of(const char *url)
{
    if (!strcmp(url, "/") || !strcmp(url, "/console") || !strcmp(url, "/console/"))
        return "index.html";
    const char *p = url + 9;                /* after "/console/" */
    if (strlen(p) > PATH_MAX_SERVED)
        return NULL;
    bool seg_start = true;
    for (const char *c = p; *c; c++) {
        if (*c == '/') {
            if (seg_start)
                return NULL;                /* "//" or a leading '/' */
            seg_start = true;
            continue;
        }
        if (seg_start && *c == '.')
            return NULL;                    /* "..", ".hidden" */
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
                  || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
        if (!ok)
            return NULL;
        seg_start = false;
    }
    return seg_start ? NULL : p;            /* "" or a trailing '/': no listing */
}

static void add_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", VND_STATIC_CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
}

static enum MHD_Result refuse(struct MHD_Connection *mc, unsigned status, const char *msg)
{
    char *body = vnd_strdup_printf("%s\n", msg);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
                                                             MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    add_headers(r);
    enum MHD_Result res = MHD_queue_response(mc, status, r);
    MHD_destroy_response(r);
    return res;
}

enum MHD_Result vnd_static_serve(struct MHD_Connection *mc, const char *root,
                                 const char *method, const char *url)
{
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return refuse(mc, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
    if (!root)
        return refuse(mc, MHD_HTTP_NOT_FOUND, "no console here (no --www-dir)");
    const char *name = file_of(url);
    const char *type = name ? vnd_static_mime(name) : NULL;
    if (!type)
        return refuse(mc, MHD_HTTP_NOT_FOUND, "no such file");
    char *path = vnd_strdup_printf("%s/%s", root, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return refuse(mc, MHD_HTTP_NOT_FOUND, "no such file");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    add_headers(r);
    enum MHD_Result res = MHD_queue_response(mc, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return res;
}

char *vnd_static_default_root(const char *installed)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char *dir = vnd_strdup_printf("%s/../www", exe);
            char *index = vnd_strdup_printf("%s/index.html", dir);
            bool there = access(index, R_OK) == 0;
            free(index);
            if (there) {
                char *real = realpath(dir, NULL);
                free(dir);
                return real ? real : vnd_xstrdup(installed);
            }
            free(dir);
        }
    }
    return vnd_xstrdup(installed);
}
