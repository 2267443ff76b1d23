/* client.c — requests to the control server on libcurl. */
#include "api/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* An error body is only read for its message: more is not kept. */
#define ERROR_BODY_MAX (64 * 1024)

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int set_url(struct vnd_client *c, const char *url, char **err)
{
    if (!url || !*url)
        url = getenv("VND_URL");
    if (!url || !*url) {
        *err = vnd_xstrdup("no control server: set VND_URL or give --url "
                           "(e.g. http://controller:7400)");
        return -1;
    }
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        *err = vnd_strdup_printf("the control server's URL must start with http:// or "
                                 "https://, not '%s'", url);
        return -1;
    }
    size_t n = strlen(url);
    while (n > 8 && url[n - 1] == '/')
        n--;
    c->url = vnd_xstrndup(url, n);
    return 0;
}

/* A token goes into a header: no line breaks or other control bytes. */
static int set_token(struct vnd_client *c, const char *token, const char *what, char **err)
{
    for (const char *p = token; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *err = vnd_strdup_printf("%s holds a control character", what);
            return -1;
        }
    c->token = vnd_xstrdup(token);
    return 0;
}

int vnd_client_init(struct vnd_client *c, const char *url, const char *token, char **err)
{
    memset(c, 0, sizeof *c);
    if (!token || !*token)
        token = getenv("VND_TOKEN");
    if (!token || !*token) {
        *err = vnd_xstrdup("no tenant token: set VND_TOKEN or give --token");
        return -1;
    }
    if (set_url(c, url, err) || set_token(c, token, "the token", err)) {
        vnd_client_clear(c);
        return -1;
    }
    return 0;
}

int vnd_client_init_secret(struct vnd_client *c, const char *url, const char *file,
                           const char *env, char **err)
{
    memset(c, 0, sizeof *c);
    if (!file || !*file)
        file = env ? getenv(env) : NULL;
    if (!file || !*file) {
        *err = vnd_strdup_printf("no admin secret: give --secret-file or set %s",
                                 env ? env : "--secret-file");
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    int e = vnd_read_file(file, &text, &len);
    if (e) {
        *err = vnd_strdup_printf("cannot read the admin secret %s: %s", file, strerror(e));
        return -1;
    }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '
                   || text[len - 1] == '\t'))
        text[--len] = '\0';
    int rc = 0;
    if (!len || memchr(text, '\0', len)) {
        *err = vnd_strdup_printf("the admin secret %s is empty", file);
        rc = -1;
    } else if (set_url(c, url, err) || set_token(c, text, "the admin secret", err)) {
        rc = -1;
    }
    free(text);
    if (rc)
        vnd_client_clear(c);
    return rc;
}

void vnd_client_clear(struct vnd_client *c)
{
    free(c->url);
    if (c->token) {
        /* a secret does not linger in freed memory */
        memset(c->token, 0, strlen(c->token));
        free(c->token);
    }
    c->url = c->token = NULL;
}

void vnd_response_clear(struct vnd_response *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* ---- one transfer ---- */

struct sink {
    CURL *h;
    FILE *out;                  /* streaming: a 2xx body goes here */
    char *buf;                  /* else (and an error body): held */
    size_t len, cap;
    bool write_failed;
    int write_errno;
    volatile sig_atomic_t *cancel;
    bool cancelled;
};

static bool success(long status)
{
    return status >= 200 && status < 300;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (s->out && success(status)) {
        if (n && fwrite(p, 1, n, s->out) != n) {
            s->write_failed = true;
            s->write_errno = errno;
            return 0;
        }
        return n;
    }
    if (!success(status) && s->len >= ERROR_BODY_MAX)
        return n;   /* the message is in the first bytes; drop the rest */
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->buf = vnd_xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    struct sink *s = ud;
    if (s->cancel && *s->cancel) {
        s->cancelled = true;
        return 1;
    }
    return 0;
}

/* The message of a 4xx/5xx answer. */
static char *server_error(const struct vnd_client *c, long status, const char *body,
                          size_t len)
{
    if (body && len) {
        json_t *j = json_loadb(body, len, 0, NULL);
        json_t *e = json_object_get(j, "error");
        if (json_is_string(e) && json_string_length(e)) {
            char *msg = vnd_xstrndup(json_string_value(e), json_string_length(e));
            json_decref(j);
            return msg;
        }
        json_decref(j);
        /* not our JSON (a proxy's page, say): its first line, briefly */
        size_t n = strcspn(body, "\r\n");
        if (n > 200)
            n = 200;
        if (n)
            return vnd_strdup_printf("the control server at %s answered HTTP %ld: %.*s",
                                     c->url, status, (int)n, body);
    }
    return vnd_strdup_printf("the control server at %s answered HTTP %ld", c->url, status);
}

static int transfer(const struct vnd_client *c, const char *method, const char *path,
                    const json_t *body, FILE *out, struct vnd_response *r, long *statusp,
                    char **err)
{
    *err = NULL;
    if (statusp)
        *statusp = 0;
    if (r)
        memset(r, 0, sizeof *r);
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        *err = vnd_strdup_printf("libcurl: %s", curl_easy_strerror(global_rc));
        return -1;
    }
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text) {
            *err = vnd_xstrdup("the request body cannot be written as JSON");
            return -1;
        }
    }
    CURL *h = curl_easy_init();
    if (!h) {
        free(text);
        *err = vnd_xstrdup("libcurl: cannot start a transfer");
        return -1;
    }
    char *url = vnd_strdup_printf("%s%s", c->url, path);
    char *auth = vnd_strdup_printf("Authorization: Bearer %s", c->token);
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, auth);
    if (text)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    /* no "Expect: 100-continue" round trip before a large body */
    hdrs = curl_slist_append(hdrs, "Expect:");
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sink s = {.h = h, .out = out, .cancel = c->cancel};

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vnd");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &s);
    /* a redirect would carry the token elsewhere: answers are final */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->connect_timeout > 0 ? c->connect_timeout
                                                                        : 10L);
    if (text) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    }
    if (strcmp(method, text ? "POST" : "GET"))
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (statusp)
        *statusp = status;
    if (r)
        r->status = status;
    int ret = 0;
    const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);
    if (s.cancelled) {
        *err = vnd_xstrdup("interrupted");
        ret = -1;
    } else if (s.write_failed) {
        *err = vnd_strdup_printf("cannot write the answer: %s", strerror(s.write_errno));
        ret = -1;
    } else if (rc != CURLE_OK && status == 0) {
        *err = vnd_strdup_printf("cannot reach the control server at %s: %s", c->url, why);
        ret = -1;
    } else if (rc != CURLE_OK && success(status)) {
        *err = vnd_strdup_printf("the answer from the control server at %s was cut short: %s",
                                 c->url, why);
        ret = -1;
    } else if (!success(status)) {
        *err = server_error(c, status, s.buf, s.len);
        ret = -1;
    }
    if (r && !ret) {
        r->body = s.buf ? s.buf : vnd_xstrdup("");
        r->len = s.len;
        s.buf = NULL;
    }
    if (out && !ret && fflush(out)) {
        *err = vnd_strdup_printf("cannot write the answer: %s", strerror(errno));
        ret = -1;
    }
    free(s.buf);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    memset(auth, 0, strlen(auth));
    free(auth);
    free(url);
    free(text);
    return ret;
}

int vnd_client_request(const struct vnd_client *c, const char *method, const char *path,
                       const json_t *body, struct vnd_response *r, char **err)
{
    return transfer(c, method, path, body, NULL, r, NULL, err);
}

json_t *vnd_client_json(const struct vnd_client *c, const char *method, const char *path,
                        const json_t *body, long *status, char **err)
{
    struct vnd_response r;
    int rc = transfer(c, method, path, body, NULL, &r, status, err);
    json_t *j = NULL;
    if (!rc) {
        json_error_t je;
        j = json_loadb(r.body, r.len, 0, &je);
        if (!j)
            *err = vnd_strdup_printf("the control server at %s answered with something that "
                                     "is not JSON (%s)", c->url, je.text);
    }
    vnd_response_clear(&r);
    return j;
}

int vnd_client_stream(const struct vnd_client *c, const char *method, const char *path,
                      const json_t *body, FILE *out, long *status, char **err)
{
    return transfer(c, method, path, body, out, NULL, status, err);
}
