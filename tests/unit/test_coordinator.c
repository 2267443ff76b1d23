/* test_coordinator.c — which tenant statements the coordinator sends
 * (control/coordinator.h, vnd_coord_reading_statement): reading ones only,
 * whatever blanks, parentheses and comments come first. */
#include "../tap.h"

#include <string.h>

#include "control/coordinator.h"

/* The statement on one line, for the test's name. */
static const char *oneline(const char *s)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return buf;
}

int main(void)
{
    static const char *const yes[] = {
        "select 1", "SELECT count(*) FROM ids_in", "  \n\tWith x AS (select 1) select * from x",
        "values (1)", "TABLE ids_in", "explain verbose select 1", "(select 1) union (select 2)",
        "-- a comment\nselect 1", "/* a /* nested */ comment */ select 1", NULL,
    };
    static const char *const no[] = {
        "set role vnd_coord", "RESET ROLE", "/* select */ reset role", "-- select\nreset role",
        "commit", "begin", "do $$ begin end $$", "copy (select 1) to program 'id'",
        "create table x (a int)", "set_config", "show all", "discard all", "",
        "/* unterminated select", "selects", "lock table x", "listen x", "prepare p as select 1",
        "execute p", "call p()", "fetch all from c", "declare c cursor for select 1", NULL,
    };
    for (const char *const *s = yes; *s; s++)
        CHECK(vnd_coord_reading_statement(*s), "sent: %s", oneline(*s));
    for (const char *const *s = no; *s; s++)
        CHECK(!vnd_coord_reading_statement(*s), "refused: %s", oneline(*s));
    return tap_done();
}
