#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
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

/// Cryptographically strong random bytes. Returns 1 on success.
static inline int copenssl_random(unsigned char *out, size_t count) {
    return RAND_bytes(out, (int)count);
}

/// AES-256-GCM encryption of `count` bytes with a 12-byte nonce and additional authenticated data; writes the
/// ciphertext (same length) to `out` and the 16-byte tag to `tag`. Returns 1 on success.
static inline int copenssl_aes256gcm_seal(const unsigned char key[32], const unsigned char nonce[12],
                                          const unsigned char *aad, size_t aadLength, const unsigned char *in,
                                          size_t count, unsigned char *out, unsigned char tag[16]) {
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    if (context == NULL) return 0;
    int ok = EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), NULL, key, nonce) == 1;
    int length = 0;
    if (ok && aadLength > 0) ok = EVP_EncryptUpdate(context, NULL, &length, aad, (int)aadLength) == 1;
    if (ok && count > 0) ok = EVP_EncryptUpdate(context, out, &length, in, (int)count) == 1;
    if (ok) ok = EVP_EncryptFinal_ex(context, out + count, &length) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(context);
    return ok;
}

/// AES-256-GCM decryption; returns 1 only when the tag authenticates the ciphertext and the additional data.
static inline int copenssl_aes256gcm_open(const unsigned char key[32], const unsigned char nonce[12],
                                          const unsigned char *aad, size_t aadLength, const unsigned char *in,
                                          size_t count, const unsigned char tag[16], unsigned char *out) {
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    if (context == NULL) return 0;
    int ok = EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), NULL, key, nonce) == 1;
    int length = 0;
    if (ok && aadLength > 0) ok = EVP_DecryptUpdate(context, NULL, &length, aad, (int)aadLength) == 1;
    if (ok && count > 0) ok = EVP_DecryptUpdate(context, out, &length, in, (int)count) == 1;
    if (ok) ok = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1;
    if (ok) ok = EVP_DecryptFinal_ex(context, out + count, &length) == 1;
    EVP_CIPHER_CTX_free(context);
    return ok;
}

/// scrypt (RFC 7914) through OpenSSL. Returns 1 on success.
static inline int copenssl_scrypt(const char *password, size_t passwordLength, const unsigned char *salt,
                                  size_t saltLength, uint64_t n, uint64_t r, uint64_t p, uint64_t maxMemory,
                                  unsigned char *out, size_t outLength) {
    return EVP_PBE_scrypt(password, passwordLength, salt, saltLength, n, r, p, maxMemory, out, outLength);
}
#endif
