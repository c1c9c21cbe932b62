/// Names of objects waiting to be processed, as client-go's work queue keeps them: a name is queued at most once,
/// a name being processed is never handed to a second worker (a change meanwhile queues it again once the first
/// is done), and `close()` lets workers finish what they hold and then stop.
actor WorkQueue {
    private var pending: [String] = []
    private var queued: Set<String> = []
    private var processing: Set<String> = []
    private var dirty: Set<String> = []
    private var waiters: [CheckedContinuation<String?, Never>] = []
    private var closed = false

    func add(_ name: String) {
        guard !closed else { return }
        if processing.contains(name) {
            dirty.insert(name)
            return
        }
        guard queued.insert(name).inserted else { return }
        if waiters.isEmpty {
            pending.append(name)
        } else {
            queued.remove(name)
            processing.insert(name)
            waiters.removeFirst().resume(returning: name)
        }
    }

    /// Queues `name` again after `delay` (a retry with back-off).
    nonisolated func add(_ name: String, after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            await add(name)
        }
    }

    /// The next name to process, or nil once the queue is closed.
    func next() async -> String? {
        if !pending.isEmpty {
            let name = pending.removeFirst()
            queued.remove(name)
            processing.insert(name)
            return name
        }
        if closed { return nil }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Marks `name` processed; a change seen meanwhile queues it again.
    func done(_ name: String) {
        processing.remove(name)
        if dirty.remove(name) != nil { add(name) }
    }

    /// Stops handing out names: waiting workers get nil at once.
    func close() {
        closed = true
        pending.removeAll()
        queued.removeAll()
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
    }
}
