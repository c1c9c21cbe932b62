import Foundation
import Synchronization
import SystemIO

/// The deduplicating, content-addressed store on top of an `ObjectStore`.
///
/// Chunks are packed into pack objects (`packs/`, about 16 MiB each) that index objects (`index/`) describe; records
/// (snapshots, backups) are small JSON objects written only after every chunk they name is in a pack that an index
/// object names, durably. Putting a chunk that is stored or pending stores nothing, even when many tasks put it at
/// once; getting a chunk always verifies it.
public final class Repository: Sendable {
    /// The store as this repository reads and writes it: objects are encrypted and decrypted on the way when the
    /// store is encrypted.
    public let store: any ObjectStore
    public let config: RepositoryConfig
    public let statistics = StoreStatistics()
    public let volumeChunker: ContentDefinedChunker
    public let resourceChunker: ContentDefinedChunker
    /// The secret chunk ids are keyed with (encrypted stores), or nil (plain SHA-256 ids).
    let chunkIDKey: [UInt8]?
    /// The key blobs and pack headers are sealed with (encrypted stores), or nil.
    let blobKey: [UInt8]?
    /// How much chunk work may be under way at once, for the whole process's use of this store.
    public struct Limits: Sendable, Equatable {
        /// Chunk requests (uploads, downloads) in flight. Sized for latency × bandwidth, not for the core count: CPU
        /// work is bounded by the cooperative pool's width anyway, while an object store answering in 50 ms needs
        /// many requests under way to keep a link busy.
        public var requestsInFlight: Int
        /// Chunk bytes read or decoded but not yet stored or written: what bounds memory, whatever the chunk sizes.
        public var bytesInFlight: Int

        /// A pack is closed and uploaded once it holds this many bytes (restic's and borg's order of size: request
        /// count, not bytes, is what object stores charge and wait for).
        public var packSize: Int
        /// Packs being uploaded at once; with one open pack per kind, memory for packs is about
        /// `(packUploads + 2) × packSize`.
        public var packUploads: Int

        public static let standard = Limits(requestsInFlight: 32, bytesInFlight: 64 << 20)

        public init(requestsInFlight: Int, bytesInFlight: Int, packSize: Int = 16 << 20, packUploads: Int = 4) {
            self.requestsInFlight = max(1, requestsInFlight)
            self.bytesInFlight = max(1, bytesInFlight)
            self.packSize = max(1, packSize)
            self.packUploads = max(1, packUploads)
        }
    }

    public let limits: Limits
    /// Chunk requests in flight (`limits.requestsInFlight`).
    let chunkSlots: AsyncSemaphore
    /// Chunk bytes in flight (`limits.bytesInFlight`).
    let byteBudget: AsyncSemaphore
    let packs: PackStore
    /// Whether the chunk table was read (by a lock's refresh or on first use), and the read under way, which every
    /// task that needs the table awaits together.
    private let indexLoaded = Mutex(false)
    private let indexLoading = Mutex<Task<Void, any Error>?>(nil)
    /// Index objects read ahead of a lock (`prefetchIndex`), by name, for the next refresh to take instead of
    /// reading them again.
    let prefetchedIndex = Mutex<[String: [IndexFile.Pack]]>([:])
    /// Whether this process made the store (`openOrCreate`): its first lock lists the index beside the locks
    /// (`listsIndexBesideLocks`).
    let created: Bool
    /// The writing of a store `openOrCreate` returned before writing it (`awaitCreation`).
    let creation: Task<Void, any Error>?
    /// The lock the opening takes ahead (`open`'s `lockingAhead`), for the first lock to take up.
    let lockAhead: LockAheadSlot?

    init(
        store: any ObjectStore, config: RepositoryConfig, master: MasterKey? = nil, limits: Limits = .standard,
        created: Bool = false, creation: Task<Void, any Error>? = nil, lockAhead: LockAheadSlot? = nil
    ) throws {
        self.created = created
        self.creation = creation
        self.lockAhead = lockAhead
        for profile in [config.volumeChunker, config.resourceChunker] {
            if let problem = profile.problem {
                throw ChunkStoreError.unsupportedRepository(store: store.location, reason: problem)
            }
        }
        self.store = master.map { EncryptedObjectStore(base: store, master: $0) } ?? store
        self.config = config
        chunkIDKey = master?.chunkIDs
        blobKey = master?.encryption
        volumeChunker = ContentDefinedChunker(profile: config.volumeChunker)
        resourceChunker = ContentDefinedChunker(profile: config.resourceChunker)
        self.limits = limits
        chunkSlots = AsyncSemaphore(permits: limits.requestsInFlight)
        byteBudget = AsyncSemaphore(permits: limits.bytesInFlight)
        // A pack uploaded but not indexed within half the stale threshold is not indexed at all: an orphan sweep
        // (which waits the full threshold) may have taken it.
        packs = PackStore(
            store: self.store, key: master?.encryption, targetSize: limits.packSize, uploads: limits.packUploads,
            uploadValidity: config.lockStaleAfter / 2)
    }

    /// Waits for a request slot and `bytes` of the byte budget; release both with `releaseChunkWork(bytes:)`.
    func acquireChunkWork(bytes: Int) async throws {
        try await chunkSlots.acquire()
        do { try await byteBudget.acquire(bytes) } catch {
            chunkSlots.release()
            throw error
        }
    }

    func releaseChunkWork(bytes: Int) {
        byteBudget.release(bytes)
        chunkSlots.release()
    }

    /// The store's config, read without opening anything else; fails with `repositoryNotFound` when it has none.
    public static func readConfig(_ store: any ObjectStore) async throws -> RepositoryConfig {
        try await readConfig(store, checkingAccess: true)
    }

    /// `readConfig`; without `checkingAccess`, a missing config is `repositoryNotFound` without a look at the
    /// location (for a caller that checks it itself, at the same time as other work).
    static func readConfig(_ store: any ObjectStore, checkingAccess: Bool) async throws -> RepositoryConfig {
        // The config first: one request when the store is there (every command opens one, and on an object store
        // each request is a round trip). Only when it cannot be read is the location itself checked, so a missing
        // bucket or directory, or one without access, is reported as such rather than as a missing store.
        let bytes: [UInt8]
        do {
            bytes = try await store.get(RepositoryConfig.key)
        } catch ChunkStoreError.objectNotFound {
            if checkingAccess { try await store.checkAccess() }
            throw ChunkStoreError.repositoryNotFound(store: store.location)
        } catch {
            try await store.checkAccess()
            throw error
        }
        let config = try StoreJSON.decode(RepositoryConfig.self, from: bytes, key: RepositoryConfig.key)
        guard RepositoryConfig.readableVersions.contains(config.version) else {
            throw ChunkStoreError.unsupportedRepository(
                store: store.location,
                reason:
                    "format version \(config.version); this velero-cas reads versions \(RepositoryConfig.readableVersions.lowerBound)–\(RepositoryConfig.readableVersions.upperBound)"
            )
        }
        return config
    }

    /// Opens an existing store; fails with `repositoryNotFound` when it has no `config`. An encrypted store needs
    /// `passwords`: the first key object that opens with the password gives the master key.
    ///
    /// `lockingAhead` (the operation's name, as a lock records it) is for a caller whose next step is a shared lock
    /// (a backup, a restore): once the config is read, that lock is taken while the key objects are read and the key
    /// is derived, and the caller's first shared lock takes it up without a request (`LockAhead`). A failed open
    /// withdraws it before it throws; one not taken up is withdrawn after a refresh interval.
    public static func open(
        _ store: any ObjectStore, passwords: (any PasswordSource)? = nil, limits: Limits = .standard,
        legacyLayout: Bool = false, lockingAhead: String? = nil
    ) async throws -> Repository {
        try await open(
            store, passwords: passwords, limits: limits, legacyLayout: legacyLayout, checkingAccess: true,
            lockingAhead: lockingAhead)
    }

    private static func open(
        _ store: any ObjectStore, passwords: (any PasswordSource)?, limits: Limits, legacyLayout: Bool,
        checkingAccess: Bool, lockingAhead operation: String?
    ) async throws -> Repository {
        // The key objects are read while the config is: they are needed for every encrypted store.
        async let keyObjects = StoreKey.all(in: store)
        let config: RepositoryConfig
        do {
            config = try await readConfig(store, checkingAccess: checkingAccess)
        } catch {
            _ = try? await keyObjects
            throw error
        }
        if !config.hasPacks && !legacyLayout {
            throw ChunkStoreError.unsupportedRepository(
                store: store.location,
                reason:
                    "it is in store format \(config.version), one object per chunk; this velero-cas keeps chunks in packs (format \(RepositoryConfig.currentVersion)). Convert it once with `velero-cas store migrate --store \(store.location)`"
            )
        }
        // The store is there and in this format: the lock is taken while the key is read and derived.
        let ahead = operation.map { LockAheadSlot.start(store: store, config: config, operation: $0) }
        do {
            let repository = try await openKeys(
                store, config: config, keys: try await keyObjects, passwords: passwords, limits: limits,
                lockAhead: ahead)
            // A cancelled opening leaves nothing behind (the key's derivation does not see cancellation).
            if ahead != nil { try Task.checkCancellation() }
            return repository
        } catch {
            // Withdrawn before the error is reported: a wrong password or a damaged store leaves no lock behind.
            await ahead?.abandon(store: store)
            throw error
        }
    }

    /// The repository of an existing store whose `config` and key objects were read: its master key from the first
    /// key object `passwords` opens (derived on the blocking pool), or none for a plain store.
    private static func openKeys(
        _ store: any ObjectStore, config: RepositoryConfig, keys: [StoreKey], passwords: (any PasswordSource)?,
        limits: Limits, lockAhead: LockAheadSlot?
    ) async throws -> Repository {
        guard config.isEncrypted else {
            // A plain config beside key objects is a downgrade (someone rewrote `config`): refuse it rather than
            // write plain objects into an encrypted store.
            guard keys.isEmpty else {
                throw ChunkStoreError.unsupportedRepository(
                    store: store.location,
                    reason:
                        "its config says unencrypted but it holds keys (keys/); the config may have been tampered with")
            }
            return try Repository(store: store, config: config, limits: limits, lockAhead: lockAhead)
        }
        guard
            let password = try await Self.password(
                from: passwords, config: config, location: store.location, creating: false)
        else {
            throw ChunkStoreError.passwordRequired(
                store: store.location,
                reason: "no password found in \(passwords?.describe(for: config) ?? "the caller's settings")")
        }
        let own = keys.filter { $0.store == config.id }
        guard !own.isEmpty else {
            throw ChunkStoreError.passwordRequired(store: store.location, reason: "it has no key objects (keys/)")
        }
        let source = passwords?.describe(for: config) ?? "the given password"
        // scrypt: about 0.1 s of CPU, not on the cooperative pool.
        let (master, _) = try await BlockingPool.shared.run {
            try openMasterKey(own, password: password, store: store, source: source)
        }
        return try Repository(store: store, config: config, master: master, limits: limits, lockAhead: lockAhead)
    }

    /// Reads the chunk table unless it was read already: what every use of the table awaits first. A store is
    /// opened without reading it, since nearly every command takes a lock next and a lock refreshes the table (a
    /// second LIST of `index/` is one more round trip on an object store); a command that takes no lock reads it
    /// here, once, on first use: one read that all its callers await at once (it is short: a LIST and the index
    /// objects, so a cancelled caller stops waiting but does not stop it). A format-1 store has no index.
    func loadIndex() async throws {
        guard config.hasPacks, !indexLoaded.withLock({ $0 }) else { return }
        let task = indexLoading.withLock { loading in
            if let loading { return loading }
            let task = Task { try await self.refreshIndex() }
            loading = task
            return task
        }
        do {
            try await task.value
        } catch {
            indexLoading.withLock { if $0 == task { $0 = nil } }
            throw error
        }
    }

    /// The master key from the first key that `password` opens, and that key's id.
    public static func openMasterKey(_ keys: [StoreKey], password: [UInt8], store: any ObjectStore, source: String)
        throws -> (master: MasterKey, keyID: String)
    {
        for key in keys {
            if let master = try key.open(password: password) { return (master, key.id) }
        }
        throw ChunkStoreError.wrongPassword(store: store.location, source: source)
    }

    /// Opens the store, creating it first if there is none (`config` is what a new store gets). A new encrypted store
    /// gets a random master key, wrapped by the password `passwords` gives (it may make one up and keep it); its key
    /// object is written before the config, which is what makes the store exist. A new store's `directories` are
    /// made with it (`StoreLayout`).
    ///
    /// With `deferringCreation`, a new encrypted store is returned as soon as its master key is made, and written
    /// (key object, config, config read back) by a task that the first lock awaits before it writes anything
    /// (`awaitCreation`), so work that needs nothing stored (reading a backup's files) runs meanwhile. Should another
    /// process create the store at the same moment, that lock fails with `storeCreatedConcurrently` (nothing but a
    /// key object was written with this process's key); without it, the other process's store is opened instead.
    /// `lockingAhead`: see `open`; it applies to a store that exists (a new one's first lock awaits its creation).
    public static func openOrCreate(
        _ store: any ObjectStore, config: RepositoryConfig = RepositoryConfig(),
        passwords: (any PasswordSource)? = nil, keyParameters: StoreCrypto.ScryptParameters = .standard,
        limits: Limits = .standard, directories: [String] = StoreLayout.directories, deferringCreation: Bool = false,
        lockingAhead: String? = nil
    ) async throws -> Repository {
        do {
            return try await open(
                store, passwords: passwords, limits: limits, legacyLayout: false, checkingAccess: false,
                lockingAhead: lockingAhead)
        } catch ChunkStoreError.repositoryNotFound {
            // The location is checked (a missing bucket is reported as such) while the new key is derived.
            async let access: Void = store.checkAccess()
            let prepared: (master: MasterKey, key: StoreKey)?
            do {
                prepared = try await newKey(
                    store, config: config, passwords: passwords, parameters: keyParameters)
            } catch {
                try await access
                throw error
            }
            try await access
            let written = try StoreJSON.encode(config)
            let stored = try StoreJSON.decode(RepositoryConfig.self, from: written, key: RepositoryConfig.key)
            if deferringCreation, let prepared {
                let creation = Task {
                    guard try await create(store, key: prepared.key, config: written, directories: directories) else {
                        throw ChunkStoreError.storeCreatedConcurrently(store: store.location)
                    }
                }
                return try Repository(
                    store: store, config: stored, master: prepared.master, limits: limits, created: true,
                    creation: creation)
            }
            // When the config read back is the one just written (no other process created the store at the same
            // moment), the new encrypted store opens with the master key made here, without listing and unwrapping
            // the key objects again (two round trips and a key derivation); otherwise it opens as any existing store
            // does.
            if try await create(store, key: prepared?.key, config: written, directories: directories),
                let master = prepared?.master
            {
                return try Repository(store: store, config: stored, master: master, limits: limits, created: true)
            }
            return try await open(store, passwords: passwords, limits: limits)
        }
    }

    /// Writes a new store: its directories, its key object (if encrypted), then its config; returns whether the
    /// config read back is the one written (false: another process created the store at the same moment).
    private static func create(_ store: any ObjectStore, key: StoreKey?, config: [UInt8], directories: [String])
        async throws -> Bool
    {
        try await store.makeDirectories(directories)
        if let key {
            try await store.put(StoreKey.key(key.id), try StoreJSON.encode(key))
            try await store.sync()
        }
        try await store.put(RepositoryConfig.key, config)
        try await store.sync()
        let written = try StoreJSON.decode(RepositoryConfig.self, from: config, key: RepositoryConfig.key)
        return try await readConfig(store) == written
    }

    /// Waits until the store this process is creating exists (`openOrCreate`'s `deferringCreation`); at once for
    /// any other. Every lock awaits it before it writes its object.
    func awaitCreation() async throws {
        try await creation?.value
    }

    /// What `passwords` gives, asked on the blocking pool: a source may read a file, or (creating) write one with
    /// fsyncs, which must not hold a cooperative thread.
    private static func password(
        from passwords: (any PasswordSource)?, config: RepositoryConfig, location: String, creating: Bool
    ) async throws -> [UInt8]? {
        guard let passwords else { return nil }
        return try await BlockingPool.shared.run {
            try passwords.password(for: config, location: location, creating: creating)
        }
    }

    /// A new store's master key and its key object, wrapped by the password `passwords` gives; nil for a plain store.
    private static func newKey(
        _ store: any ObjectStore, config: RepositoryConfig, passwords: (any PasswordSource)?,
        parameters: StoreCrypto.ScryptParameters
    ) async throws -> (master: MasterKey, key: StoreKey)? {
        guard config.isEncrypted else { return nil }
        guard
            let password = try await Self.password(
                from: passwords, config: config, location: store.location, creating: true)
        else {
            throw ChunkStoreError.passwordRequired(
                store: store.location, reason: "a new encrypted store needs a password")
        }
        let master = MasterKey.generate()
        let key = try StoreKey.make(
            master: master, password: password, store: config.id, parameters: parameters,
            host: await HostName.current())
        return (master, key)
    }

    /// The id of a chunk's content in this store.
    public func chunkID(of plain: some PlainBytes) -> ChunkID {
        let key = chunkIDKey
        return plain.withPlainBytes { ChunkID(hashing: $0, key: key) }
    }

    /// Where a format-1 store (before packs) keeps a chunk; only `store migrate` reads there.
    public static func legacyChunkKey(_ id: ChunkID) -> String {
        let hex = id.hex
        return "chunks/\(hex.prefix(2))/\(hex)"
    }

    // MARK: - Chunks

    /// Stores one chunk: hash, and unless the store has it (or it is pending), compress, seal and add it to the
    /// open pack of its kind, uploading the pack that fills. Returns its reference. `statistics` also counts the
    /// chunk, for figures of one operation among several running at once.
    @discardableResult
    public func putChunk(_ plain: [UInt8], kind: PackKind = .data, statistics operation: StoreStatistics? = nil)
        async throws -> ChunkRef
    {
        let (ref, upload) = try await addChunk(plain, kind: kind, statistics: operation)
        if let upload { try await awaitUpload(upload) }
        return ref
    }

    /// `putChunk`, returning as soon as the chunk is in a pack: the upload of the pack it filled, if it filled one,
    /// is the caller's to await (`awaitUpload`), so a caller can use the reference while the upload is under way.
    /// With a `gate` still shut, the chunk is sealed first (the work would wait anyway) and then waits at the gate:
    /// what the store has is decided, and the chunk added to a pack, only once it opens.
    func addChunk(
        _ plain: some PlainBytes, kind: PackKind = .data, gate: Gate? = nil,
        statistics operation: StoreStatistics? = nil
    ) async throws -> (ref: ChunkRef, upload: Task<Void, any Error>?) {
        let id = chunkID(of: plain)
        let blobKey = self.blobKey
        var sealed: [UInt8]?
        if let gate, !gate.isOpen {
            sealed = plain.withPlainBytes { PackLayout.blob(of: $0, id: id, key: blobKey) }
            try await gate.wait()
        }
        try await loadIndex()
        var written: Int?
        var upload: Task<Void, any Error>?
        if await !packs.contains(id) {
            // A cancelled operation stores nothing new.
            try Task.checkCancellation()
            let blob = sealed ?? plain.withPlainBytes { PackLayout.blob(of: $0, id: id, key: blobKey) }
            (written, upload) = try await addToPack(id, blob: blob, kind: kind)
        }
        statistics.recordPut(plainBytes: plain.count, storedBytes: written)
        operation?.recordPut(plainBytes: plain.count, storedBytes: written)
        return (ChunkRef(id: id, length: plain.count), upload)
    }

    /// Adds a sealed blob to the open pack of its kind (`force`: even when the store has the chunk, for repacking),
    /// waiting for room to close the pack when it fills it. Returns the bytes added (nil when the chunk was there
    /// already) and the upload of the pack it filled, for the caller to await.
    func addToPack(_ id: ChunkID, blob: [UInt8], kind: PackKind, force: Bool = false) async throws -> (
        stored: Int?, upload: Task<Void, any Error>?
    ) {
        var holdingRoom = false
        while true {
            switch await packs.add(id, blob: blob, kind: kind, force: force, holdingRoom: holdingRoom) {
            case .known:
                if holdingRoom { packs.room.release() }
                return (nil, nil)
            case .needsRoom:
                try await packs.room.acquire()
                holdingRoom = true
            case .added(let stored, let upload):
                if upload == nil && holdingRoom {
                    // Another blob filled the pack meanwhile: the permit was not needed.
                    packs.room.release()
                }
                return (stored, upload)
            }
        }
    }

    /// `addToPack`, waiting for the upload of the pack it filled.
    func addToPackAndUpload(_ id: ChunkID, blob: [UInt8], kind: PackKind, force: Bool = false) async throws -> Int? {
        let (stored, upload) = try await addToPack(id, blob: blob, kind: kind, force: force)
        if let upload { try await awaitUpload(upload) }
        return stored
    }

    /// Waits for a pack's upload; cancelling the caller cancels the upload.
    func awaitUpload(_ task: Task<Void, any Error>) async throws {
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// Closes the open packs, uploads them, waits for every upload under way, and writes index objects for them:
    /// afterwards every chunk put so far (and not dropped by a failure) is named by an index object.
    public func flushPacks() async throws {
        try await uploadPacks()
        try await packs.writeIndex()
    }

    /// The first half of `flushPacks`: closes the open packs and waits for every upload under way, without writing
    /// their index. A commit sends its lock check and reference list beside the index (`ReferenceList`).
    func uploadPacks() async throws {
        for task in await packs.closeAll() { try await awaitUpload(task) }
        for task in await packs.uploadsInFlight() { _ = try? await task.value }
    }

    /// Closes the open packs and starts their uploads without waiting for them: for a caller that has put its last
    /// chunk and has other work before its flush (a backup's manifest), so the last packs are under way meanwhile.
    /// The flush waits for them; one that fails leaves its chunks missing, which `ensureStored` reports.
    func startUploadingOpenPacks() async {
        _ = await packs.closeAll()
    }

    /// Flushes, then checks that every chunk in `ids` is named by an index object: what a record that references
    /// them needs before it is committed (another operation's failed upload may have taken a chunk this one
    /// found pending).
    public func ensureStored(_ ids: [ChunkID]) async throws {
        try await loadIndex()
        try await flushPacks()
        let missing = await packs.missing(ids)
        guard missing.isEmpty else {
            throw ChunkStoreError.notStored(
                chunks: missing.count, first: missing[0],
                reason: await packs.lastFailure ?? "no pack holding it was uploaded")
        }
    }

    /// Reads, decompresses and verifies one chunk.
    public func getChunk(_ id: ChunkID) async throws -> [UInt8] {
        try await loadIndex()
        guard let plan = await packs.readPlan(id) else {
            throw ChunkStoreError.missingChunk(id: id, key: "no index object names it")
        }
        switch plan {
        case .bytes(let bytes):
            return try open(bytes, id: id, key: "an open pack")
        case .object(let object, let range):
            return try open(try await read(object, range: range, for: id), id: id, key: object)
        }
    }

    /// Reads a chunk and checks it holds as many bytes as the manifest that names it says.
    public func getChunk(_ ref: ChunkRef) async throws -> [UInt8] {
        try Self.check(try await getChunk(ref.id), against: ref)
    }

    /// Reads several chunks, in order, with as few requests as their places allow (see `readRuns`), one run after
    /// the other. Callers that want the runs in parallel plan them with `readRuns` and read each with `read(_:)`.
    public func getChunks(_ refs: [ChunkRef]) async throws -> [[UInt8]] {
        var results = [[UInt8]](repeating: [], count: refs.count)
        for run in try await readRuns(refs) {
            for (index, plain) in try await read(run) { results[index] = plain }
        }
        return results
    }

    /// Plans the reads of `refs`: chunks that lie one after the other in a pack (a file's chunks, as its backup wrote
    /// them) form one run, read with one ranged request of at most `maximumBytes`, so a restore pays one request per
    /// run rather than one per chunk — what matters on an object store 50 ms away. Runs are independent: read them
    /// in parallel, each within the store's limits (`plainBytes` of the byte budget).
    public func readRuns(_ refs: [ChunkRef], maximumBytes: Int = 8 << 20) async throws -> [ChunkRun] {
        try await loadIndex()
        return try await Self.planRuns(refs, maximumBytes: maximumBytes) { await self.packs.readPlan($0) }
    }

    /// `readRuns` with chunks located by `locate`.
    static func planRuns(
        _ refs: [ChunkRef], maximumBytes: Int, locate: (ChunkID) async -> PackStore.ReadPlan?
    ) async throws -> [ChunkRun] {
        var runs: [ChunkRun] = []
        for (index, ref) in refs.enumerated() {
            guard let plan = await locate(ref.id) else {
                throw ChunkStoreError.missingChunk(id: ref.id, key: "no index object names it")
            }
            let member = ChunkRun.Member(index: index, ref: ref, range: 0..<0)
            switch plan {
            case .bytes(let bytes):
                runs.append(ChunkRun(source: .bytes(bytes), members: [member]))
            case .object(let object, let range):
                var member = member
                member.range = range
                if case .object(let key, let covered)? = runs.last?.source, key == object,
                    covered.upperBound == range.lowerBound, covered.count + range.count <= maximumBytes
                {
                    runs[runs.count - 1].source = .object(key: key, range: covered.lowerBound..<range.upperBound)
                    runs[runs.count - 1].members.append(member)
                } else {
                    runs.append(ChunkRun(source: .object(key: object, range: range), members: [member]))
                }
            }
        }
        return runs
    }

    /// Reads one planned run (one request, or none for a chunk still in an open pack) and returns each member's
    /// index in the planned list with its verified bytes.
    public func read(_ run: ChunkRun) async throws -> [(index: Int, plain: [UInt8])] {
        let fetched = try await fetch(run)
        return try fetched.stored.withUnsafeBytes { stored in
            var scratch = OpenScratch()
            defer { scratch.release() }
            return try run.members.map { member in
                let plain = try [UInt8](unsafeUninitializedCapacity: member.ref.length) { buffer, count in
                    try decode(
                        member, of: fetched, stored: stored, into: UnsafeMutableRawBufferPointer(buffer),
                        scratch: &scratch)
                    count = buffer.count
                }
                return (member.index, plain)
            }
        }
    }

    /// A run's stored bytes, read with its one request (`fetch`), to be decoded (`decode(_:into:)`).
    public struct FetchedRun: Sendable {
        let run: ChunkRun
        var stored: [UInt8]
        /// Names where the bytes came from in errors.
        let object: String

        /// The plain bytes its chunks decode to.
        public var plainBytes: Int { run.plainBytes }

        /// Where `member`'s blob lies in `stored`.
        func blob(of member: ChunkRun.Member) -> Range<Int> {
            guard case .object(_, let range) = run.source else { return 0..<stored.count }
            let start = member.range.lowerBound - range.lowerBound
            return start..<start + member.range.count
        }
    }

    /// Reads a planned run's stored bytes with one request (none for a chunk still in an open pack).
    public func fetch(_ run: ChunkRun) async throws -> FetchedRun {
        switch run.source {
        case .bytes(let bytes):
            return FetchedRun(run: run, stored: bytes, object: "an open pack")
        case .object(let object, let range):
            let stored = try await read(object, range: range, for: run.members[0].ref.id)
            return FetchedRun(run: run, stored: stored, object: object)
        }
    }

    /// Decodes a fetched run's chunks one after another into `destination`, which holds exactly `plainBytes`: each
    /// is opened (authenticated), decompressed and checked against its id and length where it lands, with no copy
    /// of its own. A run's chunks are consecutive in the planned list, so a file's run fills one range of the file.
    /// CPU work of about a millisecond per MiB: callers with much of it run it off the cooperative pool.
    public func decode(_ fetched: FetchedRun, into destination: UnsafeMutableRawBufferPointer) throws {
        precondition(destination.count == fetched.plainBytes, "a run decodes into a buffer of its plain size")
        try fetched.stored.withUnsafeBytes { stored in
            var scratch = OpenScratch()
            defer { scratch.release() }
            var offset = 0
            for member in fetched.run.members {
                let end = offset + member.ref.length
                try decode(
                    member, of: fetched, stored: stored,
                    into: UnsafeMutableRawBufferPointer(rebasing: destination[offset..<end]), scratch: &scratch)
                offset = end
            }
        }
    }

    /// Where an encrypted store's blobs are opened before they are decompressed: one buffer per run, grown to its
    /// largest blob.
    private struct OpenScratch {
        var buffer: UnsafeMutableRawBufferPointer?

        mutating func take(_ count: Int) -> UnsafeMutableRawBufferPointer {
            if (buffer?.count ?? -1) < count {
                buffer?.deallocate()
                buffer = .allocate(byteCount: count, alignment: 16)
            }
            return UnsafeMutableRawBufferPointer(rebasing: buffer![..<count])
        }

        func release() { buffer?.deallocate() }
    }

    /// Opens (authenticates), decompresses and verifies one member of a fetched run into `target`.
    private func decode(
        _ member: ChunkRun.Member, of fetched: FetchedRun, stored: UnsafeRawBufferPointer,
        into target: UnsafeMutableRawBufferPointer, scratch: inout OpenScratch
    ) throws {
        let blob = UnsafeRawBufferPointer(rebasing: stored[fetched.blob(of: member)])
        let id = member.ref.id
        statistics.recordRead(storedBytes: blob.count)
        var encoded = blob
        if let blobKey {
            let opened = StoreCrypto.openedCount(blob.count).map { scratch.take($0) }
            guard let opened, StoreCrypto.open(blob, key: blobKey, associated: id.bytes, into: opened) else {
                throw Self.notAuthentic(id, in: fetched.object)
            }
            encoded = UnsafeRawBufferPointer(opened)
        }
        try ChunkCodec.decode(encoded, id: id, key: fetched.object, idKey: chunkIDKey, into: target)
    }

    /// One ranged read of a pack, its failures named for the chunk `id` that needed it.
    private func read(_ object: String, range: Range<Int>, for id: ChunkID) async throws -> [UInt8] {
        do {
            return try await store.get(object, range: range)
        } catch ChunkStoreError.objectNotFound {
            throw ChunkStoreError.missingChunk(id: id, key: object)
        } catch ChunkStoreError.shortRead {
            throw ChunkStoreError.corruptChunk(id: id, key: object, reason: "the pack is shorter than its index says")
        }
    }

    private static func notAuthentic(_ id: ChunkID, in key: String) -> ChunkStoreError {
        .corruptChunk(
            id: id, key: key, reason: "it does not authenticate (the pack was changed, or the blob is another's)")
    }

    /// Opens (authenticates), decompresses and verifies one stored blob.
    private func open(_ stored: [UInt8], id: ChunkID, key: String) throws -> [UInt8] {
        statistics.recordRead(storedBytes: stored.count)
        guard let encoded = PackLayout.openBlob(stored, id: id, key: blobKey) else {
            throw Self.notAuthentic(id, in: key)
        }
        return try ChunkCodec.decode(encoded, id: id, key: key, idKey: chunkIDKey)
    }

    private static func check(_ plain: [UInt8], against ref: ChunkRef) throws -> [UInt8] {
        guard plain.count == ref.length else {
            throw ChunkStoreError.corruptChunk(
                id: ref.id, key: "its pack", reason: "holds \(plain.count) bytes, the manifest says \(ref.length)")
        }
        return plain
    }

    /// Whether the chunk is stored or pending (without reading it). An index that cannot be read counts as naming
    /// nothing (the chunk is stored again).
    public func hasChunk(_ id: ChunkID) async -> Bool {
        try? await loadIndex()
        return await packs.contains(id)
    }

    /// Whether the next lock should list `index/` beside `locks/` (`StoreLock`): only the first one of a store this
    /// process made, whose index is nearly always empty. Anywhere else the listing would be a request in vain.
    var listsIndexBesideLocks: Bool { created && config.hasPacks && !indexLoaded.withLock { $0 } }

    /// Reads the index objects the table lacks; starts afresh when one it knew is gone (garbage collection rewrote
    /// it). Which chunks exist is only certain while garbage collection cannot run, that is while a shared lock is
    /// held, so taking one refreshes (`StoreLock` calls this).
    ///
    /// `listed` is a listing of `index/` the lock sent already, used when the table knows nothing yet (else the
    /// index is listed here): one sent once the lock was won (`LockAhead`), or an empty one sent once its object was
    /// written (a store this process made): an empty table names no chunk, so none that garbage collection may have
    /// taken, however long before the lock was won the listing was answered (index objects written since then cost
    /// only dedup).
    public func refreshIndex(listed: Set<String>? = nil) async throws {
        // What the table knew before the listing: an object this process writes meanwhile is neither "gone" nor lost.
        let (known, ticket) = await packs.beginRefresh()
        let names: Set<String>
        do {
            if let listed, known.isEmpty {
                names = listed
            } else {
                names = Set(try await store.listAll(prefix: IndexFile.prefix).map(\.key).filter(IndexFile.isIndexKey))
            }
        } catch {
            await packs.install([], replacing: false, ticket: ticket)
            throw error
        }
        let replacing = !known.isSubset(of: names)
        let wanted = Array(replacing ? names : names.subtracting(known))
        let slots = AsyncSemaphore(permits: 16)
        // Index objects read ahead of the lock are taken as read: one is written once under a random name and
        // never rewritten (garbage collection writes new ones and deletes the old), so what a name held then it
        // holds now. Which of them count is decided by this listing alone.
        let ahead = prefetchedIndex.withLock { stash in
            defer { stash = [:] }
            return stash
        }
        let objects: [(key: String, packs: [IndexFile.Pack])]
        do {
            objects =
                wanted.compactMap { key in ahead[key].map { (key, $0) } }
                + (try await readIndexObjects(wanted.filter { ahead[$0] == nil }, slots: slots))
        } catch {
            await packs.install([], replacing: false, ticket: ticket)
            throw error
        }
        await packs.install(objects, replacing: replacing, ticket: ticket)
        indexLoaded.withLock { $0 = true }
    }

    func readIndexObjects(_ wanted: [String], slots: AsyncSemaphore) async throws -> [(
        key: String, packs: [IndexFile.Pack]
    )] {
        try await withThrowingTaskGroup(of: (key: String, packs: [IndexFile.Pack])?.self) { group in
            for key in wanted {
                try await slots.acquire()
                group.addTask {
                    defer { slots.release() }
                    do {
                        return (key, try IndexFile.decode(try await self.store.get(key), key: key))
                    } catch ChunkStoreError.objectNotFound {
                        return nil
                    }
                }
            }
            var objects: [(key: String, packs: [IndexFile.Pack])] = []
            for try await object in group { if let object { objects.append(object) } }
            return objects
        }
    }

    /// Counts chunks a caller reuses without reading them (an unchanged file).
    public func recordReused(_ refs: [ChunkRef], statistics operation: StoreStatistics? = nil) async {
        let bytes = refs.reduce(Int64(0)) { $0 + Int64($1.length) }
        statistics.recordReused(plainBytes: bytes, chunks: refs.count)
        operation?.recordReused(plainBytes: bytes, chunks: refs.count)
    }

    // MARK: - Blobs (manifests, resource streams)

    /// Cuts `bytes` with the resource chunker and stores the chunks in parallel; returns them in order.
    public func putBlob(_ bytes: [UInt8], statistics operation: StoreStatistics? = nil) async throws -> [ChunkRef] {
        let writer = BlobWriter(repository: self, chunker: resourceChunker, kind: .metadata, statistics: operation)
        try await writer.append(bytes)
        return try await writer.finish()
    }

    /// Reassembles a blob, reading its runs (adjacent blobs of a pack, one request each) in parallel.
    public func readBlob(_ refs: [ChunkRef]) async throws -> [UInt8] {
        try await readBlob(refs, runs: try await readRuns(refs))
    }

    /// Reads a blob whose reads were planned.
    func readBlob(_ refs: [ChunkRef], runs: [ChunkRun]) async throws -> [UInt8] {
        let pieces = try await withThrowingTaskGroup(of: [(index: Int, plain: [UInt8])].self) { group in
            for run in runs {
                try await acquireChunkWork(bytes: run.plainBytes)
                group.addTask {
                    defer { self.releaseChunkWork(bytes: run.plainBytes) }
                    return try await self.read(run)
                }
            }
            var pieces = [[UInt8]](repeating: [], count: refs.count)
            for try await read in group {
                for (index, plain) in read { pieces[index] = plain }
            }
            return pieces
        }
        return Array(pieces.joined())
    }

    // MARK: - Records

    /// Commits a record: checks that the locks this task holds are still held (a process whose lock went stale may
    /// have had its work collected, so it must not commit), waits until everything put so far is durable, then
    /// writes the record atomically.
    public func commitRecord<T: Encodable>(_ value: T, key: String) async throws {
        try await StoreLock.ensureHeld()
        try await writeRecord(value, key: key)
    }

    /// `commitRecord` for a caller that has just checked the locks against the store (`ReferenceList.commit`, which
    /// checks while the reference list is written): the locks are checked here again, without a request.
    func writeRecord<T: Encodable>(_ value: T, key: String) async throws {
        try StoreLock.checkHeld()
        try await flushPacks()
        try await store.sync()
        try await store.put(key, try StoreJSON.encode(value))
        try await store.sync()
    }

    /// Writes a record that says work is under way (a backup InProgress): checked against the locks this task
    /// holds without a request, volatile (`ObjectStore.putVolatile`, never torn). A power cut may take it back,
    /// which loses nothing while nothing is committed under it: a pending marker whose owner has no record is
    /// discarded by garbage collection, and unreferenced packs by the orphan sweep. Before anything that must keep
    /// the record is committed (a volume snapshot of the backup), `makeProgressRecordDurable` anchors it.
    public func writeProgressRecord<T: Encodable>(_ value: T, key: String) async throws {
        try StoreLock.checkHeld()
        try await store.putVolatile(key, try StoreJSON.encode(value))
    }

    /// Makes a record written by `writeProgressRecord` durable now (one barrier), so a power cut never keeps what is
    /// committed after this without the record that names it.
    public func makeProgressRecordDurable(key: String) async throws {
        try StoreLock.checkHeld()
        try await store.makeDurableAtNextSync(key)
        try await store.sync()
    }

    /// Writes an object that goes with a record about to be committed beside it (a run's log): checked against the
    /// locks this task holds, volatile (`ObjectStore.putVolatile`). The record's commit flushes their directory
    /// after the record, which makes this object durable too; a power cut before that loses both.
    public func writeVolatile(_ bytes: [UInt8], key: String) async throws {
        try StoreLock.checkHeld()
        try await store.putVolatile(key, bytes)
    }

    /// Reads a record, or nil when it does not exist.
    public func record<T: Decodable>(_ type: T.Type, key: String) async throws -> T? {
        do {
            return try StoreJSON.decode(type, from: try await store.get(key), key: key)
        } catch ChunkStoreError.objectNotFound {
            return nil
        }
    }
}
