#ifndef SIGNALBRIDGE_CPOSTGRES_SHIM_H
#define SIGNALBRIDGE_CPOSTGRES_SHIM_H
/* libpq (apt: libpq-dev); the header is in /usr/include/postgresql, found through pkg-config "libpq". */
#include <libpq-fe.h>

/* PG_DIAG_* are character-literal macros, which Swift does not import. */
static const int cpg_diag_sqlstate = PG_DIAG_SQLSTATE;
static const int cpg_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;
static const int cpg_diag_constraint_name = PG_DIAG_CONSTRAINT_NAME;
#endif
