/* fuzz_packed.c — a packed table's blocks (store/packed.h), read from a
 * trace database as any BLOB: arbitrary bytes opened as a block of 1 to 8
 * columns (the first byte says how many), every row and value read; a
 * block that reads whole is written again from its values and must read
 * back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int ncols = 1 + data[0] % 8;
    struct vnd_packed_reader rd;
    const uint8_t *col[8];
    uint8_t room[VND_PACKED_ROOM(8)], room2[VND_PACKED_ROOM(8)];
    if (vnd_packed_open(&rd, data + 1, size - 1, 1, room) != 0)
        return 0;
    struct vnd_packed_block again = {0};
    struct vnd_value v[8];
    int r, rows = 0;
    while ((r = vnd_packed_next(&rd, col, ncols)) == 1) {
        for (int c = 0; c < ncols; c++)
            vnd_packed_value(&rd, col, c, &v[c]);
        vnd_packed_add(&again, rd.rowid, v, ncols);
        rows++;
    }
    if (r == 0 && rows) {
        struct vnd_packed_reader back;
        if (vnd_packed_open(&back, again.p, again.len, again.first, room2) != 0)
            abort();
        vnd_packed_open(&rd, data + 1, size - 1, 1, room);
        const uint8_t *col2[8];
        while (vnd_packed_next(&rd, col, ncols) == 1) {
            if (vnd_packed_next(&back, col2, ncols) != 1 || back.rowid != rd.rowid)
                abort();
            for (int c = 0; c < ncols; c++) {
                struct vnd_value a, b;
                vnd_packed_value(&rd, col, c, &a);
                vnd_packed_value(&back, col2, c, &b);
                if (!vnd_value_eq(&a, &b))
                    abort();
            }
        }
        if (vnd_packed_next(&back, col2, ncols) != 0)
            abort();
    }
    vnd_packed_free(&again);
    return 0;
}
