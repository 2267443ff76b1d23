/* sqlfuncs.h — SQL functions VND adds to SQLite connections:
 * vnd_in_prefix(addr, 'prefix/len') for CIDR tests in filters. */
#ifndef VND_LANG_SQLFUNCS_H
#define VND_LANG_SQLFUNCS_H

#include <sqlite3.h>

/* Registers VND's functions on `db`.  Returns an SQLite code. */
int vnd_sql_register_functions(sqlite3 *db);

#endif
