#ifndef TESSERA_COPENSSL_SHIM_H
#define TESSERA_COPENSSL_SHIM_H

// The parts of the system OpenSSL 3 libcrypto Tessera uses, plus static inline wrappers for
// what Swift cannot call directly (macros, variadic functions, callbacks).
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

/// A PEM password callback that supplies no password, so an encrypted key fails to load
/// instead of OpenSSL prompting on the terminal.
static int tessera_no_password(char *buf, int size, int rwflag, void *u) {
    (void)buf; (void)size; (void)rwflag; (void)u;
    return 0;
}

/// Reads one private key (PKCS#8 or traditional PKCS#1 PEM) from a memory buffer.
static inline EVP_PKEY *tessera_read_private_key(const void *pem, int length) {
    BIO *bio = BIO_new_mem_buf(pem, length);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, tessera_no_password, NULL);
    BIO_free(bio);
    return key;
}

/// Writes a private key as unencrypted PKCS#8 PEM into a memory BIO; the caller frees the BIO.
static inline BIO *tessera_write_private_key(EVP_PKEY *key) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return NULL;
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        return NULL;
    }
    return bio;
}

/// `BIO_get_mem_data` is a macro.
static inline long tessera_bio_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

/// `BN_num_bytes` is a macro.
static inline int tessera_bn_num_bytes(const BIGNUM *bn) {
    return BN_num_bytes(bn);
}

/// Builds an RSA public key from modulus and exponent. The parameter builder keeps pointers
/// to the parameter names, so they must be C literals that outlive the call.
static inline EVP_PKEY *tessera_rsa_public_key(const BIGNUM *n, const BIGNUM *e) {
    EVP_PKEY *key = NULL;
    OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *context = NULL;
    if (builder == NULL) goto done;
    if (OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, n) != 1) goto done;
    if (OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, e) != 1) goto done;
    params = OSSL_PARAM_BLD_to_param(builder);
    if (params == NULL) goto done;
    context = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (context == NULL || EVP_PKEY_fromdata_init(context) != 1) goto done;
    if (EVP_PKEY_fromdata(context, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) key = NULL;
done:
    EVP_PKEY_CTX_free(context);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    return key;
}

#endif
