#ifndef SIGNALBRIDGE_COPENSSL_SHIM_H
#define SIGNALBRIDGE_COPENSSL_SHIM_H
/* OpenSSL 3 (apt: libssl-dev). EVP interfaces only; the deprecated HMAC_CTX API is not used. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#endif
