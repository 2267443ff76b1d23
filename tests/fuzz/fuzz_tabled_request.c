/* fuzz_tabled_request.c — the table server's request checks on arbitrary
 * input.  Input: "METHOD PATH\n" then the body bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : size;
    char *line = malloc(head + 1);
    if (!line)
        return 0;
    memcpy(line, data, head);
    line[head] = '\0';
    char *sp = strchr(line, ' ');
    const char *method = line, *path = "/";
    if (sp) {
        *sp = '\0';
        path = sp + 1;
    }
    const char *body = nl ? (const char *)nl + 1 : NULL;
    size_t len = nl ? size - head - 1 : 0;
    struct vnd_api_request r;
    char *err = NULL;
    int status = vnd_api_parse_request(method, path, body, len, &r, &err);
    if (status) {
        /* Every refusal carries a message that can go back as JSON. */
        if (!err)
            abort();
        char *j = vnd_api_error_json(err);
        free(j);
    } else if (err) {
        abort();
    }
    free(err);
    vnd_api_request_clear(&r);
    free(line);
    return 0;
}
