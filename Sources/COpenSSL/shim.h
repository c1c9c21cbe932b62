#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>

/// One-shot SHA-256 through EVP (uses the CPU's SHA extensions). Returns 1 on success.
static inline int copenssl_sha256(const void *data, size_t count, unsigned char out[32]) {
    unsigned int length = 0;
    return EVP_Digest(data, count, out, &length, EVP_sha256(), NULL);
}

/// One-shot HMAC-SHA256. Returns 1 on success.
static inline int copenssl_hmac_sha256(const void *key, size_t keyLength, const void *data, size_t count,
                                       unsigned char out[32]) {
    unsigned int length = 0;
    return HMAC(EVP_sha256(), key, (int)keyLength, (const unsigned char *)data, count, out, &length) != NULL;
}
#endif
