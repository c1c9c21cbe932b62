import CZlib

/// Why gzip data could not be read.
public enum GunzipError: Error, CustomStringConvertible, Sendable, Equatable {
    case zlib(operation: String, code: Int32)
    case truncated

    public var description: String {
        switch self {
        case .zlib(let operation, let code): "the data is not valid gzip: zlib \(operation) returned \(code)"
        case .truncated: "the gzip data ends before its end marker (truncated)"
        }
    }
}

/// Decompresses gzip data (RFC 1952; one member) held in memory, e.g. a downloaded log.
public enum Gunzip {
    public static func decompress(_ input: [UInt8]) throws(GunzipError) -> [UInt8] {
        var stream = z_stream()
        let started = czlib_gzip_inflate_init(&stream)
        guard started == Z_OK else { throw .zlib(operation: "inflateInit2", code: started) }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            repeat {
                buffer.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output += target.prefix(target.count - Int(stream.avail_out))
                }
            } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        switch status {
        case Z_STREAM_END: return output
        case Z_OK, Z_BUF_ERROR: throw .truncated
        default: throw .zlib(operation: "inflate", code: status)
        }
    }
}
