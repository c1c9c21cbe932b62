#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
#include <zlib.h>

/// deflateInit2 is a macro; this starts a deflate stream that writes the gzip format (RFC 1952).
static inline int czlib_gzip_deflate_init(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// inflateInit2 is a macro too; this starts an inflate stream that reads the gzip format.
static inline int czlib_gzip_inflate_init(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}
#endif
