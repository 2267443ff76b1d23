/* vnd_packed_ext.c — the vnd_packed module as an SQLite loadable
 * extension: SQLite's shell (and any other SQLite client) reads a table
 * server's packed tables with it (store/packed.h).
 *
 *   sqlite3 -cmd '.load /usr/lib/vnd/vnd_packed' default.db 'SELECT ...'
 *
 * SQLite derives the entry point's name from the file's, vnd_packed.so:
 * sqlite3_vndpacked_init.  Nothing here writes: blocks go in only through
 * a table server's store. */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "store/packed.h"

__attribute__((visibility("default")))
int sqlite3_vndpacked_init(sqlite3 *db, char **err, const sqlite3_api_routines *api);

int sqlite3_vndpacked_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    SQLITE_EXTENSION_INIT2(api);
    int rc = vnd_packed_register(db, NULL, NULL);
    if (rc != SQLITE_OK)
        *err = sqlite3_mprintf("vnd_packed: cannot register the module: %s",
                               sqlite3_errstr(rc));
    return rc;
}
