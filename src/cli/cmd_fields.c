/* cmd_fields.c — `vnd fields`: the field registry, for people. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "fields/registry.h"
#include "output/output.h"

int cmd_fields(int argc, char **argv)
{
    enum vnd_fmt fmt = VND_FMT_TABLE;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-f") && i + 1 < argc) {
            if (vnd_fmt_parse(argv[++i], &fmt)) {
                fprintf(stderr, "vnd fields: -f takes table, csv or json\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vnd fields [-f table|csv|json]\n\n"
                   "Lists every field a parse configuration or filter may name,\n"
                   "with its Wireshark aliases and the SQL type of its column.\n");
            return 0;
        } else {
            fprintf(stderr, "vnd fields: unexpected '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    struct vnd_out *o = vnd_out_new(stdout, fmt);
    const char *cols[] = {"field", "aliases", "sql_type", "meaning"};
    vnd_out_columns(o, 4, cols);
    for (int f = 0; f < VND_F_COUNT; f++) {
        const struct vnd_field_info *fi = vnd_field_info((enum vnd_field)f);
        vnd_out_text(o, fi->name);
        if (fi->aliases)
            vnd_out_text(o, fi->aliases);
        else
            vnd_out_null(o);
        vnd_out_text(o, vnd_sql_type_name(vnd_field_sql_type(fi->id)));
        vnd_out_text(o, fi->doc);
        vnd_out_end_row(o);
    }
    vnd_out_finish(o);
    return 0;
}
