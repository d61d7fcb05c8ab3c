/* The floor of the fixed shape (nginx -> FastCGI -> PostgreSQL) on this machine, for `make bench`: a C libfcgi
 * process that reads the request body and runs pgbench's own reference insert (prepared, one row, autocommit)
 * over a persistent libpq connection, then answers 201 with a constant body. No auth, no validation, no JSON,
 * no logging: whatever the webhook does costs on top of this. Test-only; never deployed.
 * Build: cc -O2 floor.c -lfcgi -lpq -I$(pg_config --includedir) */
#include <fcgiapp.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *SQL =
    "INSERT INTO bench_insert (signal_id, ts, payload) VALUES ($1, now(), '{\"action\":1,\"confidence\":0.8}')";

int main(void) {
    const char *url = getenv("DATABASE_URL");
    if (!url) { fprintf(stderr, "DATABASE_URL is required\n"); return 78; }
    PGconn *db = PQconnectdb(url);
    if (PQstatus(db) != CONNECTION_OK) { fprintf(stderr, "connect: %s", PQerrorMessage(db)); return 1; }
    PGresult *p = PQprepare(db, "ins", SQL, 1, NULL);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) { fprintf(stderr, "prepare: %s", PQerrorMessage(db)); return 1; }
    PQclear(p);
    FCGX_Init();
    FCGX_Request req;
    FCGX_InitRequest(&req, 0, 0);
    char body[4096], id[64];
    unsigned long counter = 0;
    while (FCGX_Accept_r(&req) >= 0) {
        int n = FCGX_GetStr(body, sizeof body, req.in);
        (void)n;
        snprintf(id, sizeof id, "floor-%d-%lu", (int)getpid(), ++counter);
        const char *values[1] = {id};
        PGresult *r = PQexecPrepared(db, "ins", 1, values, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (ok) FCGX_FPrintF(req.out, "Status: 201 Created\r\nContent-Type: application/json\r\n\r\n{\"status\":\"received\"}");
        else FCGX_FPrintF(req.out, "Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n{}");
        FCGX_Finish_r(&req);
    }
    PQfinish(db);
    return 0;
}
