#ifndef SIGNALBRIDGE_CFASTCGI_SHIM_H
#define SIGNALBRIDGE_CFASTCGI_SHIM_H
/* libfcgi (apt: libfcgi-dev). FCGX_FPrintF is variadic and not imported: use FCGX_PutStr. */
#include <fcgiapp.h>
#endif
