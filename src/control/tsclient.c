/* tsclient.c — table server calls on libcurl. */
#include "control/tsclient.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/util.h"

#define CALL_TIMEOUT 15L
#define CONNECT_TIMEOUT 5L

static size_t on_body(char *d, size_t size, size_t n, void *ctx)
{
    vnd_buf_add(ctx, d, size * n);
    return size * n;
}

/* An easy handle for METHOD url+path with the secret and the JSON body. */
static CURL *prepare(const char *url, const char *secret, const char *method, const char *path,
                     json_t *body, char **json_text, struct curl_slist **headers)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    char *full = vnd_strdup_printf("%s%s", url, path);
    curl_easy_setopt(c, CURLOPT_URL, full);
    free(full);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    char *auth = vnd_strdup_printf("Authorization: Bearer %s", secret);
    *headers = curl_slist_append(NULL, auth);
    free(auth);
    *json_text = NULL;
    if (body) {
        *json_text = json_dumps(body, JSON_COMPACT);
        *headers = curl_slist_append(*headers, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, *json_text);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
    return c;
}

int vnd_ts_call(const char *url, const char *secret, const char *method, const char *path,
                json_t *body, long *status, json_t **reply, char **err)
{
    char *text;
    struct curl_slist *h;
    struct vnd_buf b = {0};
    *reply = NULL;
    CURL *c = prepare(url, secret, method, path, body, &text, &h);
    if (!c) {
        *err = vnd_xstrdup("curl_easy_init failed");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT, CALL_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    int ret = 0;
    if (rc != CURLE_OK) {
        *err = vnd_strdup_printf("table server %s: %s", url, curl_easy_strerror(rc));
        ret = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (b.len)
            *reply = json_loadb(b.s, b.len, 0, NULL);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(text);
    free(b.s);
    return ret;
}

/* ---- streams: curl's multi interface, driven from the reader ---- */

struct vnd_ts_stream {
    CURLM *m;
    CURL *c;
    struct curl_slist *h;
    char *text;
    struct vnd_buf b;           /* received, not yet read */
    size_t pos;
    bool done, failed;
    long status;
    char *type;
    char *why;
};

static size_t on_piece(char *d, size_t size, size_t n, void *ctx)
{
    struct vnd_ts_stream *s = ctx;
    /* Hold back while the reader has not taken the last piece, so a slow
     * client slows the table server down instead of filling memory. */
    if (s->b.len - s->pos > 4u << 20)
        return CURL_WRITEFUNC_PAUSE;
    if (s->pos == s->b.len)
        s->pos = s->b.len = 0;
    vnd_buf_add(&s->b, d, size * n);
    return size * n;
}

/* Runs the transfer until something new arrives or it ends. */
static void pump(struct vnd_ts_stream *s, double wait_s)
{
    int running = 0;
    curl_easy_pause(s->c, CURLPAUSE_CONT);
    curl_multi_perform(s->m, &running);
    if (running && s->pos == s->b.len) {
        curl_multi_poll(s->m, NULL, 0, (int)(wait_s * 1000), NULL);
        curl_multi_perform(s->m, &running);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->m, &left)))
        if (msg->msg == CURLMSG_DONE) {
            s->done = true;
            if (msg->data.result != CURLE_OK) {
                s->failed = true;
                s->why = vnd_xstrdup(curl_easy_strerror(msg->data.result));
            }
        }
    if (!running)
        s->done = true;
    if (!s->status)
        curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &s->status);
}

struct vnd_ts_stream *vnd_ts_stream_open(const char *url, const char *secret,
                                         const char *method, const char *path, json_t *body,
                                         double timeout, char **err)
{
    struct vnd_ts_stream *s = vnd_xcalloc(1, sizeof *s);
    s->c = prepare(url, secret, method, path, body, &s->text, &s->h);
    s->m = curl_multi_init();
    if (!s->c || !s->m) {
        *err = vnd_xstrdup("curl init failed");
        vnd_ts_stream_close(s);
        return NULL;
    }
    if (timeout > 0)
        curl_easy_setopt(s->c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(s->c, CURLOPT_WRITEFUNCTION, on_piece);
    curl_easy_setopt(s->c, CURLOPT_WRITEDATA, s);
    curl_multi_add_handle(s->m, s->c);
    while (!s->done && !s->status)
        pump(s, 0.2);
    if (s->failed && !s->status) {
        *err = vnd_strdup_printf("table server %s: %s", url, s->why);
        vnd_ts_stream_close(s);
        return NULL;
    }
    char *ct = NULL;
    curl_easy_getinfo(s->c, CURLINFO_CONTENT_TYPE, &ct);
    s->type = vnd_xstrdup(ct ? ct : "application/octet-stream");
    return s;
}

long vnd_ts_stream_status(const struct vnd_ts_stream *s)
{
    return s->status;
}

const char *vnd_ts_stream_type(const struct vnd_ts_stream *s)
{
    return s->type;
}

ssize_t vnd_ts_stream_read(struct vnd_ts_stream *s, char *buf, size_t max)
{
    while (s->pos == s->b.len && !s->done)
        pump(s, 1.0);
    if (s->pos == s->b.len)
        return s->failed ? -1 : 0;
    size_t n = s->b.len - s->pos < max ? s->b.len - s->pos : max;
    memcpy(buf, s->b.s + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

char *vnd_ts_stream_slurp(struct vnd_ts_stream *s, size_t max)
{
    struct vnd_buf all = {0};
    vnd_buf_add(&all, "", 0);
    char piece[8192];
    ssize_t k;
    while (all.len < max && (k = vnd_ts_stream_read(s, piece, sizeof piece)) > 0)
        vnd_buf_add(&all, piece, (size_t)k);
    return all.s;
}

void vnd_ts_stream_close(struct vnd_ts_stream *s)
{
    if (!s)
        return;
    if (s->m && s->c)
        curl_multi_remove_handle(s->m, s->c);
    if (s->c)
        curl_easy_cleanup(s->c);
    if (s->m)
        curl_multi_cleanup(s->m);
    curl_slist_free_all(s->h);
    free(s->text);
    free(s->b.s);
    free(s->type);
    free(s->why);
    free(s);
}
