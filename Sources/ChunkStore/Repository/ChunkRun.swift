/// One planned read of chunks (`Repository.readRuns`): blobs that lie one after the other in a pack, fetched with
/// one ranged request, or a chunk still in an open pack.
public struct ChunkRun: Sendable {
    enum Source: Sendable {
        case object(key: String, range: Range<Int>)
        case bytes([UInt8])
    }

    struct Member: Sendable {
        /// The chunk's position in the list that was planned.
        var index: Int
        var ref: ChunkRef
        /// Its stored bytes in the pack.
        var range: Range<Int>
    }

    var source: Source
    var members: [Member]

    /// The planned list's positions this run reads, in order.
    public var indices: [Int] { members.map(\.index) }
    /// The first of them: a run's chunks are consecutive in the planned list.
    public var firstIndex: Int { members[0].index }
    /// The chunks' bytes once read: what the run takes of the byte budget.
    public var plainBytes: Int { members.reduce(0) { $0 + $1.ref.length } }
}
