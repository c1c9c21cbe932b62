import Foundation
import SystemIO

/// The packing side of a repository: chunks added to open packs (one per kind), packs uploaded whole, index objects
/// written for uploaded packs, and the table of every chunk the store's index objects name.
///
/// An actor: many tasks add chunks at once, and a chunk must land in one pack only. Adding a chunk is in memory
/// and costs the actor little: the blob is kept as it is (never copied into a pack buffer), and a pack that fills
/// is closed by handing its blobs to an upload task, which seals its header, names it and writes the
/// blobs one after another, in parallel with the other uploads and off the actor. The task goes back to the adding
/// caller, which awaits it: the adding task feels the uploads' backpressure. Every upload is recorded from the
/// moment its pack closes, so a flush waits for all of them. A chunk counts as stored only once an index object
/// names its pack (`missing(_:)`): that is what a commit checks, so an upload that failed can never be committed over.
actor PackStore {
    /// Where a chunk can be read before an index object names it.
    enum Pending {
        /// In the open pack of `kind`, its `blob`-th blob.
        case open(kind: PackKind, blob: Int)
        /// In a closed pack still being uploaded (named `serial` until its name is known), its `blob`-th blob.
        case closed(serial: Int, blob: Int)
        case packed(pack: PackID, offset: Int, length: Int)
    }

    /// A full pack, ready to upload: its blobs, not yet joined, sealed or named.
    struct ClosedPack: Sendable {
        let serial: Int
        let kind: PackKind
        let blobs: [[UInt8]]
        let entries: [PackEntry]
        /// Whether it holds a `room` permit (a pack closed by a flush does not wait for one).
        let holdsRoom: Bool
    }

    enum Added {
        case known
        /// Added; `upload` is the upload of the pack it filled, if it filled one.
        case added(stored: Int, upload: Task<Void, any Error>?)
        /// Not added: the blob would fill its pack, and closing a pack needs room (`room`) first.
        case needsRoom
    }

    private struct OpenPack {
        var blobs: [[UInt8]] = []
        var entries: [PackEntry] = []
        var size = 0
    }

    let store: any ObjectStore
    /// Seals blobs and pack headers (encrypted stores).
    let key: [UInt8]?
    let targetSize: Int
    /// Full packs being uploaded at once (the packs a flush closes are uploaded at once beside them).
    let uploadSlots: AsyncSemaphore
    /// Closed packs not yet uploaded, at most as many as uploads run at once: a pack is closed only with a permit,
    /// which its upload gives back when it ends. Without it, adding outruns uploading and closed packs (16 MiB each)
    /// pile up in memory.
    let room: AsyncSemaphore
    /// Packs uploaded longer ago than this are not indexed any more (an orphan sweep may have removed them), unless
    /// a lock of this process has protected the store since their upload.
    let uploadValidity: Duration
    private(set) var table = ChunkTable()
    private var open: [PackKind: OpenPack] = [:]
    private var pending: [ChunkID: Pending] = [:]
    /// The blobs of closed packs until their upload ends, by serial (reads of their chunks are served from them).
    private var closed: [Int: [[UInt8]]] = [:]
    private var nextSerial = 0
    private var uploads: [Int: Task<Void, any Error>] = [:]
    private var uploaded: [(pack: IndexFile.Pack, at: ContinuousClock.Instant)] = []
    private var indexWrites: [Int: Task<Void, any Error>] = [:]
    private var nextIndexWrite = 0
    /// Why chunks were dropped before they were indexed (for the error a commit over them gets).
    private(set) var lastFailure: String?
    /// Index objects this process wrote, numbered, kept while a refresh that began before them is under way: a
    /// refresh that starts its table afresh must not lose them (its listing may predate them).
    private var ownObjects: [(serial: Int, key: String, packs: [IndexFile.Pack])] = []
    private var ownSerial = 0
    private var refreshes: [Int: Int] = [:]
    private var nextRefresh = 0

    init(store: any ObjectStore, key: [UInt8]?, targetSize: Int, uploads: Int, uploadValidity: Duration) {
        self.store = store
        uploadSlots = AsyncSemaphore(permits: uploads)
        room = AsyncSemaphore(permits: uploads)
        self.key = key
        self.targetSize = targetSize
        self.uploadValidity = uploadValidity
    }

    func contains(_ id: ChunkID) -> Bool { pending[id] != nil || table.locate(id) != nil }

    /// Adds a sealed blob to the open pack of its kind, unless the chunk is stored or pending already (`force`:
    /// add it anyway, for repacking). Returns the upload of the pack it filled, for the caller to await. A blob that
    /// would fill its pack is added only by a caller holding a `room` permit (`holdingRoom`), which then goes with
    /// the pack (or, when the blob did not fill one after all, is the caller's to give back).
    func add(_ id: ChunkID, blob: [UInt8], kind: PackKind, force: Bool = false, holdingRoom: Bool) -> Added {
        if !force, contains(id) { return .known }
        if !holdingRoom && (open[kind]?.size ?? 0) + blob.count >= targetSize { return .needsRoom }
        // Taken out of the dictionary while it grows: a copy left there would make every append copy the lists.
        var pack = open.removeValue(forKey: kind) ?? OpenPack()
        pending[id] = .open(kind: kind, blob: pack.blobs.count)
        pack.entries.append(PackEntry(id: id, offset: UInt32(pack.size), length: UInt32(blob.count)))
        pack.blobs.append(blob)
        pack.size += blob.count
        let full = pack.size >= targetSize
        open[kind] = pack
        guard full, let full = close(kind, holdingRoom: true) else {
            return .added(stored: blob.count, upload: nil)
        }
        return .added(stored: blob.count, upload: startUpload(full))
    }

    /// Closes the open pack of `kind`; its chunks are read from its blobs until the upload names it.
    private func close(_ kind: PackKind, holdingRoom: Bool) -> ClosedPack? {
        guard let pack = open.removeValue(forKey: kind), !pack.entries.isEmpty else { return nil }
        let serial = nextSerial
        nextSerial += 1
        for (index, entry) in pack.entries.enumerated() {
            if case .open(kind, index)? = pending[entry.id] { pending[entry.id] = .closed(serial: serial, blob: index) }
        }
        closed[serial] = pack.blobs
        return ClosedPack(
            serial: serial, kind: kind, blobs: pack.blobs, entries: pack.entries, holdsRoom: holdingRoom)
    }

    /// Closes every open pack (a commit is coming) and starts their uploads.
    func closeAll() -> [Task<Void, any Error>] {
        PackKind.allCases.compactMap { close($0, holdingRoom: false) }.map { startUpload($0) }
    }

    /// Starts uploading a closed pack; the task is recorded before anyone awaits it.
    private func startUpload(_ pack: ClosedPack) -> Task<Void, any Error> {
        let store = self.store
        let slots = uploadSlots
        let key = self.key
        let room = self.room
        let task = Task {
            defer { if pack.holdsRoom { room.release() } }
            var described: IndexFile.Pack?
            do {
                // A pack a flush closed (the last, partly filled one of its kind) does not wait for a slot behind
                // full ones: a commit waits for it, and at most one per kind is closed at once.
                if pack.holdsRoom { try await slots.acquire() }
                defer { if pack.holdsRoom { slots.release() } }
                try Task.checkCancellation()
                let trailer = PackLayout.trailer(kind: pack.kind, entries: pack.entries, key: key)
                let parts = pack.blobs + [trailer]
                let id = PackLayout.name(trailer: trailer)
                described = IndexFile.Pack(
                    id: id, kind: pack.kind, size: UInt32(parts.reduce(0) { $0 + $1.count }), entries: pack.entries)
                try await store.put(id.key, parts: parts)
            } catch {
                self.uploadEnded(pack, as: described, failure: error)
                throw error
            }
            self.uploadEnded(pack, as: described, failure: nil)
        }
        uploads[pack.serial] = task
        return task
    }

    /// Records an upload's end: its chunks are read from the pack object from now on, or dropped when it failed.
    private func uploadEnded(_ pack: ClosedPack, as described: IndexFile.Pack?, failure: (any Error)?) {
        uploads[pack.serial] = nil
        closed[pack.serial] = nil
        for (index, entry) in pack.entries.enumerated() {
            guard case .closed(pack.serial, index)? = pending[entry.id] else { continue }
            if let described, failure == nil {
                pending[entry.id] = .packed(pack: described.id, offset: Int(entry.offset), length: Int(entry.length))
            } else {
                pending[entry.id] = nil
            }
        }
        if let failure {
            lastFailure = "uploading pack \(described.map { "\($0.id)" } ?? "#\(pack.serial)") failed: \(failure)"
        } else if let described {
            uploaded.append((described, .now))
        }
    }

    private func drop(_ entries: [PackEntry], of pack: PackID, because reason: String) {
        for entry in entries {
            if case .packed(let where_, _, _) = pending[entry.id], where_ == pack { pending[entry.id] = nil }
        }
        lastFailure = reason
    }

    /// Packs closed and not yet uploaded (or failed).
    var closedPacks: Int { closed.count }

    /// The uploads under way.
    func uploadsInFlight() -> [Task<Void, any Error>] { Array(uploads.values) }

    /// Writes index objects for every uploaded pack not yet indexed (at most `IndexFile.maximumEntries` entries
    /// each), and waits for index writes already under way; afterwards the chunks of those packs are in the table.
    func writeIndex() async throws {
        let location = store.location
        let validity = uploadValidity
        func valid(_ upload: (pack: IndexFile.Pack, at: ContinuousClock.Instant)) -> Bool {
            upload.at.duration(to: .now) < validity || StoreLock.protects(location, since: upload.at)
        }
        let fresh = uploaded.filter(valid).map(\.pack)
        for stale in uploaded where !valid(stale) {
            drop(stale.pack.entries, of: stale.pack.id, because: "pack \(stale.pack.id) waited too long for its index")
        }
        uploaded.removeAll()
        if !fresh.isEmpty {
            let store = self.store
            let serial = nextIndexWrite
            nextIndexWrite += 1
            // Recorded before any await, so a flush that finds nothing of its own to index still waits for it.
            indexWrites[serial] = Task {
                defer { self.indexWriteEnded(serial) }
                // The packs are durable before an index object names them: a power cut must never keep an index
                // entry whose pack it lost (a later backup would dedup against it).
                do { try await store.sync() } catch {
                    for pack in fresh {
                        self.drop(pack.entries, of: pack.id, because: "syncing packs failed: \(error)")
                    }
                    throw error
                }
                for group in Self.groups(fresh) {
                    let key = IndexFile.newKey()
                    do {
                        try await store.put(key, IndexFile.encode(group))
                    } catch {
                        for pack in group {
                            self.drop(pack.entries, of: pack.id, because: "writing index \(key) failed: \(error)")
                        }
                        throw error
                    }
                    self.indexed(key, group)
                }
            }
        }
        for task in indexWrites.values { try await task.value }
    }

    private func indexWriteEnded(_ serial: Int) { indexWrites[serial] = nil }

    private func indexed(_ key: String, _ packs: [IndexFile.Pack]) {
        table.add(indexObject: key, packs: packs)
        if !refreshes.isEmpty {
            ownSerial += 1
            ownObjects.append((ownSerial, key, packs))
        }
        for pack in packs {
            for entry in pack.entries {
                if case .packed(let where_, _, _) = pending[entry.id], where_ == pack.id { pending[entry.id] = nil }
            }
        }
    }

    /// Packs grouped so no index object holds more than `IndexFile.maximumEntries` entries.
    static func groups(_ packs: [IndexFile.Pack]) -> [[IndexFile.Pack]] {
        var groups: [[IndexFile.Pack]] = [[]]
        var entries = 0
        for pack in packs {
            if entries + pack.entries.count > IndexFile.maximumEntries && !groups[groups.count - 1].isEmpty {
                groups.append([])
                entries = 0
            }
            groups[groups.count - 1].append(pack)
            entries += pack.entries.count
        }
        return groups
    }

    /// The ids that no index object names yet.
    func missing(_ ids: [ChunkID]) -> [ChunkID] {
        ids.filter { table.locate($0) == nil }
    }

    /// Where to read a chunk: a range of a pack object, or the bytes themselves while its pack is still open.
    enum ReadPlan {
        case object(key: String, range: Range<Int>)
        case bytes([UInt8])
    }

    func readPlan(_ id: ChunkID) -> ReadPlan? {
        if let location = table.locate(id) {
            let start = Int(location.offset)
            return .object(key: table.pack(location.pack).id.key, range: start..<start + Int(location.length))
        }
        switch pending[id] {
        case .open(let kind, let blob):
            guard let pack = open[kind], blob < pack.blobs.count else { return nil }
            return .bytes(pack.blobs[blob])
        case .closed(let serial, let blob):
            guard let blobs = closed[serial], blob < blobs.count else { return nil }
            return .bytes(blobs[blob])
        case .packed(let pack, let offset, let length):
            return .object(key: pack.key, range: offset..<offset + length)
        case nil:
            return nil
        }
    }

    // MARK: - The table

    /// The index objects the table was built from.
    var indexObjectNames: Set<String> { Set(table.indexObjects.keys) }

    /// Starts a refresh: the index objects known now (before the store is listed) and a ticket for `install`.
    func beginRefresh() -> (known: Set<String>, ticket: Int) {
        let ticket = nextRefresh
        nextRefresh += 1
        refreshes[ticket] = ownSerial
        return (indexObjectNames, ticket)
    }

    /// Adds index objects read from the store; with `replacing`, starts from an empty table (an index object the
    /// table knew is gone: garbage collection rewrote it), keeping the objects this process wrote since the refresh
    /// began. Garbage collection cannot have touched those: their writer held a lock since.
    func install(_ objects: [(key: String, packs: [IndexFile.Pack])], replacing: Bool, ticket: Int) {
        let mark = refreshes.removeValue(forKey: ticket) ?? ownSerial
        if replacing { table = ChunkTable() }
        for object in objects where table.indexObjects[object.key] == nil {
            table.add(indexObject: object.key, packs: object.packs)
        }
        if replacing {
            for own in ownObjects where own.serial > mark && table.indexObjects[own.key] == nil {
                table.add(indexObject: own.key, packs: own.packs)
            }
        }
        let oldest = refreshes.values.min() ?? ownSerial
        ownObjects.removeAll { $0.serial <= oldest }
    }

    /// Changes the table as garbage collection changed the store.
    func update(_ body: (inout ChunkTable) -> Void) {
        body(&table)
    }
}
