/* test_client.c — src/api/client.c against a tiny libmicrohttpd server in
 * the same process: the Bearer header, JSON bodies both ways, methods, the
 * server's error passed as is, transport errors, and a streamed answer that
 * reaches the FILE while the server is still sending. */
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "api/client.h"

/* ---- the fake control server ---- */

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char method[16], url[256], auth[256], type[128];
    char *body;
    size_t len;
} seen;

static sem_t first_written;     /* the client has written the stream's first chunk */
static int stream_waited_ok;    /* the server saw that before sending more */

#define CHUNK 10000

struct conn {
    char *body;
    size_t len;
};

struct stream {
    int part;
    bool cut;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    if (s->part == 3)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (s->part == 1) {
        if (s->cut)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        /* the rest only once the client has the first part in its FILE */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5;
        stream_waited_ok = sem_timedwait(&first_written, &ts) == 0;
    }
    size_t n = max < CHUNK ? max : CHUNK;
    memset(buf, 'a' + s->part, n);
    s->part++;
    return (ssize_t)n;
}

static enum MHD_Result answer(struct MHD_Connection *mc, unsigned status, const char *text,
                              const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(mc, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_len, void **ptr)
{
    (void)cls, (void)version;
    struct conn *c = *ptr;
    if (!c) {
        *ptr = calloc(1, sizeof *c);
        return MHD_YES;
    }
    if (*upload_len) {
        c->body = realloc(c->body, c->len + *upload_len + 1);
        memcpy(c->body + c->len, upload, *upload_len);
        c->len += *upload_len;
        c->body[c->len] = '\0';
        *upload_len = 0;
        return MHD_YES;
    }
    const char *auth = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization");
    const char *type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Type");
    pthread_mutex_lock(&seen_lock);
    snprintf(seen.method, sizeof seen.method, "%s", method);
    snprintf(seen.url, sizeof seen.url, "%s", url);
    snprintf(seen.auth, sizeof seen.auth, "%s", auth ? auth : "");
    snprintf(seen.type, sizeof seen.type, "%s", type ? type : "");
    free(seen.body);
    seen.body = c->body;
    seen.len = c->len;
    c->body = NULL;
    pthread_mutex_unlock(&seen_lock);

    if (!strcmp(url, "/v1/diagnoses") && !strcmp(method, "GET"))
        return answer(mc, 200, "{\"diagnoses\": [{\"id\": \"d7\", \"state\": \"running\"}]}",
                      "application/json");
    if (!strcmp(url, "/echo")) {
        char *copy = seen.body ? strdup(seen.body) : strdup("");
        enum MHD_Result r = answer(mc, 201, copy, "application/json");
        free(copy);
        return r;
    }
    if (!strcmp(url, "/v1/diagnoses/d7"))
        return answer(mc, 200, "{\"id\": \"d7\", \"state\": \"deleted\"}", "application/json");
    if (!strcmp(url, "/e400"))
        return answer(mc, 400, "{\"error\": \"collect.conf:3:7: unknown keyword 'Cpa'\"}\n",
                      "application/json");
    if (!strcmp(url, "/e503"))
        return answer(mc, 503, "Service Unavailable\nmore\n", "text/plain");
    if (!strcmp(url, "/e404"))
        return answer(mc, 404, "{\"nope\": 1}", "application/json");
    if (!strcmp(url, "/notjson"))
        return answer(mc, 200, "<html>", "text/html");
    if (!strcmp(url, "/stream") || !strcmp(url, "/cut")) {
        struct stream *s = calloc(1, sizeof *s);
        s->cut = !strcmp(url, "/cut");
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, CHUNK,
                                                                   stream_reader, s, free);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/vnd.tcpdump.pcap");
        enum MHD_Result ret = MHD_queue_response(mc, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    return answer(mc, 404, "{\"error\": \"no such thing\"}", "application/json");
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **ptr,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)mc, (void)why;
    struct conn *c = *ptr;
    if (c) {
        free(c->body);
        free(c);
    }
    *ptr = NULL;
}

/* ---- a FILE that tells the server when the first bytes arrived ---- */

struct sinkbuf {
    char *data;
    size_t len;
};

static ssize_t sink_write(void *cookie, const char *p, size_t n)
{
    struct sinkbuf *b = cookie;
    bool first = b->len == 0;
    b->data = realloc(b->data, b->len + n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    if (first)
        sem_post(&first_written);
    return (ssize_t)n;
}

static FILE *sink_open(struct sinkbuf *b)
{
    cookie_io_functions_t io = {.write = sink_write};
    FILE *f = fopencookie(b, "w", io);
    setvbuf(f, NULL, _IONBF, 0);
    return f;
}

/* ---- the tests ---- */

static void test_init(void)
{
    struct vnd_client c;
    char *err = NULL;
    unsetenv("VND_URL");
    unsetenv("VND_TOKEN");
    CHECK(vnd_client_init(&c, "http://x", NULL, &err) == -1, "no token: refused");
    CHECK(err && strstr(err, "VND_TOKEN") && strstr(err, "--token"),
          "no token: the error says VND_TOKEN or --token (%s)", err);
    free(err);
    err = NULL;
    CHECK(vnd_client_init(&c, NULL, "t", &err) == -1, "no URL: refused");
    CHECK(err && strstr(err, "VND_URL") && strstr(err, "--url"),
          "no URL: the error says VND_URL or --url (%s)", err);
    free(err);
    err = NULL;
    CHECK(vnd_client_init(&c, "ftp://x", "t", &err) == -1 && strstr(err, "http://"),
          "a URL that is not http(s) is refused");
    free(err);
    err = NULL;
    CHECK(vnd_client_init(&c, "http://x", "a\nb", &err) == -1,
          "a token with a line break is refused (no header injection)");
    free(err);
    err = NULL;
    setenv("VND_URL", "http://env.example:7400//", 1);
    setenv("VND_TOKEN", "env-token", 1);
    CHECK(vnd_client_init(&c, NULL, NULL, &err) == 0, "the environment is used");
    CHECK_EQ_STR(c.url, "http://env.example:7400", "VND_URL, trailing slashes dropped");
    CHECK_EQ_STR(c.token, "env-token", "VND_TOKEN");
    vnd_client_clear(&c);
    CHECK(vnd_client_init(&c, "https://arg", "arg-token", &err) == 0,
          "arguments win over the environment");
    CHECK_EQ_STR(c.url, "https://arg", "--url");
    CHECK_EQ_STR(c.token, "arg-token", "--token");
    vnd_client_clear(&c);
    unsetenv("VND_URL");
    unsetenv("VND_TOKEN");

    char path[] = "/tmp/vnd_test_secret_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, "s3cret\n", 7) == 7, "secret file written");
    close(fd);
    unsetenv("VND_TEST_SECRET");
    CHECK(vnd_client_init_secret(&c, "http://x", NULL, "VND_TEST_SECRET", &err) == -1
              && strstr(err, "VND_TEST_SECRET") && strstr(err, "--secret-file"),
          "no secret: the error says --secret-file or the variable (%s)", err);
    free(err);
    err = NULL;
    setenv("VND_TEST_SECRET", path, 1);
    CHECK(vnd_client_init_secret(&c, "http://x", NULL, "VND_TEST_SECRET", &err) == 0,
          "secret from the file the variable names");
    CHECK_EQ_STR(c.token, "s3cret", "the secret without its newline");
    vnd_client_clear(&c);
    unlink(path);
    CHECK(vnd_client_init_secret(&c, "http://x", path, NULL, &err) == -1
              && strstr(err, "cannot read"),
          "a missing secret file is said (%s)", err);
    free(err);
}

static void test_requests(const char *base)
{
    struct vnd_client c;
    char *err = NULL;
    CHECK(vnd_client_init(&c, base, "tok-1", &err) == 0, "client for %s", base);

    long status = 0;
    json_t *j = vnd_client_json(&c, "GET", "/v1/diagnoses", NULL, &status, &err);
    CHECK(j != NULL, "GET: a JSON answer (%s)", err ? err : "");
    CHECK_EQ_INT(status, 200, "GET: status");
    CHECK_EQ_STR(json_string_value(json_object_get(
                     json_array_get(json_object_get(j, "diagnoses"), 0), "id")),
                 "d7", "GET: the body parsed");
    json_decref(j);
    pthread_mutex_lock(&seen_lock);
    CHECK_EQ_STR(seen.method, "GET", "GET: method");
    CHECK_EQ_STR(seen.url, "/v1/diagnoses", "GET: path");
    CHECK_EQ_STR(seen.auth, "Bearer tok-1", "GET: Authorization: Bearer <token>");
    CHECK(seen.len == 0, "GET: no body");
    pthread_mutex_unlock(&seen_lock);

    json_t *body = json_pack("{s:s, s:s, s:f, s:[s,s]}", "collect", "VM Node : web1\nCap input\n",
                             "collect_name", "collect.conf", "duration", 2.5, "path", "A",
                             "\xc3\xa9");
    struct vnd_response r;
    CHECK(vnd_client_request(&c, "POST", "/echo", body, &r, &err) == 0, "POST: answered");
    CHECK_EQ_INT(r.status, 201, "POST: status 201 is success");
    json_t *back = json_loadb(r.body, r.len, 0, NULL);
    CHECK(back && json_equal(back, body), "POST: the server got the JSON body as sent");
    json_decref(back);
    vnd_response_clear(&r);
    pthread_mutex_lock(&seen_lock);
    CHECK_EQ_STR(seen.method, "POST", "POST: method");
    CHECK_EQ_STR(seen.type, "application/json", "POST: Content-Type");
    CHECK_EQ_STR(seen.auth, "Bearer tok-1", "POST: Bearer");
    pthread_mutex_unlock(&seen_lock);

    j = vnd_client_json(&c, "DELETE", "/v1/diagnoses/d7", NULL, &status, &err);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "state")), "deleted", "DELETE: answer");
    json_decref(j);
    pthread_mutex_lock(&seen_lock);
    CHECK_EQ_STR(seen.method, "DELETE", "DELETE: method");
    pthread_mutex_unlock(&seen_lock);

    /* errors */
    err = NULL;
    j = vnd_client_json(&c, "POST", "/e400", body, &status, &err);
    CHECK(!j, "400: no answer");
    CHECK_EQ_INT(status, 400, "400: status");
    CHECK_EQ_STR(err, "collect.conf:3:7: unknown keyword 'Cpa'", "400: the server's error as is");
    free(err);
    err = NULL;
    CHECK(vnd_client_request(&c, "GET", "/e503", NULL, &r, &err) == -1, "503: failure");
    CHECK_EQ_INT(r.status, 503, "503: status in the response");
    CHECK(err && strstr(err, "HTTP 503: Service Unavailable") && !strstr(err, "more"),
          "503 without JSON: the status and the body's first line (%s)", err);
    vnd_response_clear(&r);
    free(err);
    err = NULL;
    j = vnd_client_json(&c, "GET", "/e404", NULL, &status, &err);
    CHECK(!j && err && strstr(err, "answered HTTP 404"), "404 without \"error\": the status (%s)",
          err);
    free(err);
    err = NULL;
    j = vnd_client_json(&c, "GET", "/notjson", NULL, &status, &err);
    CHECK(!j && err && strstr(err, "not JSON"), "200 that is not JSON: said (%s)", err);
    free(err);
    err = NULL;

    /* streaming */
    struct sinkbuf sb = {0};
    FILE *f = sink_open(&sb);
    stream_waited_ok = 0;
    CHECK(vnd_client_stream(&c, "GET", "/stream", NULL, f, &status, &err) == 0,
          "stream: done (%s)", err ? err : "");
    fclose(f);
    CHECK_EQ_INT(status, 200, "stream: status");
    CHECK_EQ_INT(sb.len, 3 * CHUNK, "stream: every byte written");
    CHECK(sb.len == 3 * CHUNK && sb.data[0] == 'a' && sb.data[CHUNK] == 'b'
              && sb.data[3 * CHUNK - 1] == 'c',
          "stream: the bytes in order");
    CHECK(stream_waited_ok, "stream: the first part reached the FILE before the server sent "
                            "the rest (written as it arrives)");
    free(sb.data);

    sb = (struct sinkbuf){0};
    f = sink_open(&sb);
    CHECK(vnd_client_stream(&c, "POST", "/e400", body, f, &status, &err) == -1,
          "stream 400: failure");
    fclose(f);
    CHECK_EQ_INT(sb.len, 0, "stream 400: the error body is not written to the FILE");
    CHECK_EQ_STR(err, "collect.conf:3:7: unknown keyword 'Cpa'",
                 "stream 400: the server's error as is");
    free(err);
    err = NULL;
    free(sb.data);

    sb = (struct sinkbuf){0};
    f = sink_open(&sb);
    CHECK(vnd_client_stream(&c, "GET", "/cut", NULL, f, &status, &err) == -1,
          "stream cut short: failure");
    fclose(f);
    CHECK(err && strstr(err, "cut short"), "stream cut short: said so (%s)", err);
    CHECK_EQ_INT(sb.len, CHUNK, "stream cut short: what came was written");
    free(err);
    err = NULL;
    free(sb.data);
    while (sem_trywait(&first_written) == 0)
        ;

    volatile sig_atomic_t cancel = 1;
    c.cancel = &cancel;
    CHECK(vnd_client_request(&c, "GET", "/v1/diagnoses", NULL, &r, &err) == -1
              && err && !strcmp(err, "interrupted"),
          "a cancelled request stops: %s", err);
    vnd_response_clear(&r);
    free(err);
    err = NULL;
    json_decref(body);
    vnd_client_clear(&c);

    /* nobody listening */
    CHECK(vnd_client_init(&c, "http://127.0.0.1:1", "t", &err) == 0, "client for port 1");
    j = vnd_client_json(&c, "GET", "/v1/diagnoses", NULL, &status, &err);
    CHECK(!j && err && !strncmp(err, "cannot reach the control server at http://127.0.0.1:1: ",
                                 55),
          "unreachable: \"cannot reach the control server at URL: ...\" (%s)", err);
    CHECK_EQ_INT(status, 0, "unreachable: status 0");
    free(err);
    vnd_client_clear(&c);
}

int main(void)
{
    sem_init(&first_written, 0, 0);
    test_init();
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD
                                                | MHD_USE_THREAD_PER_CONNECTION,
                                            0, NULL, NULL, on_request, NULL,
                                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                            MHD_OPTION_END);
    CHECK(d != NULL, "fake control server started");
    if (d) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        char base[64];
        snprintf(base, sizeof base, "http://127.0.0.1:%u/", (unsigned)info->port);
        test_requests(base);
        MHD_stop_daemon(d);
    }
    free(seen.body);
    sem_destroy(&first_written);
    return tap_done();
}
