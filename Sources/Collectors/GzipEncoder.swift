import CZlib

/// Why zlib refused to compress.
public enum GzipError: Error, CustomStringConvertible, Sendable, Equatable {
    case zlib(operation: String, code: Int32)

    public var description: String {
        switch self {
        case .zlib(let operation, let code): "gzip compression failed: zlib \(operation) returned \(code)"
        }
    }
}

/// Compresses a byte stream into the gzip format (RFC 1952) with zlib, piece by piece, so an archive of any size is
/// compressed with bounded memory. One encoder belongs to one writer; it is not shared between tasks.
public final class GzipEncoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private var finished = false

    /// - Parameter level: zlib's 0 (store) … 9 (smallest); 6 is gzip's default.
    public init(level: Int32 = 6) throws(GzipError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = czlib_gzip_deflate_init(stream, level)
        guard status == Z_OK else {
            stream.deallocate()
            throw .zlib(operation: "deflateInit2", code: status)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `input` and returns the compressed bytes zlib has ready (possibly none).
    public func compress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        try run(input, flush: Z_NO_FLUSH)
    }

    /// Compresses what is left and writes the gzip trailer (CRC-32 and length).
    public func finish() throws(GzipError) -> [UInt8] {
        defer { finished = true }
        return try run([], flush: Z_FINISH)
    }

    private func run(_ input: [UInt8], flush: Int32) throws(GzipError) -> [UInt8] {
        precondition(!finished, "GzipEncoder used after finish()")
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = input
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { source in
            stream.pointee.next_in = source.baseAddress
            stream.pointee.avail_in = UInt32(source.count)
            // Without flushing, zlib has taken all input once it leaves room in the output; finishing ends with
            // Z_STREAM_END. Z_BUF_ERROR only says no progress was possible, which is not an error.
            repeat {
                chunk.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = UInt32(target.count)
                    status = deflate(stream, flush)
                    output.append(contentsOf: target.prefix(target.count - Int(stream.pointee.avail_out)))
                }
            } while flush == Z_FINISH
                ? status == Z_OK : (status == Z_OK || status == Z_BUF_ERROR) && stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
        }
        let succeeded = flush == Z_FINISH ? status == Z_STREAM_END : status == Z_OK || status == Z_BUF_ERROR
        guard succeeded else { throw .zlib(operation: "deflate", code: status) }
        return output
    }
}
