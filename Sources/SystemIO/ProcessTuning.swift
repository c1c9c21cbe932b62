import CSystemShims

/// Process-wide settings a long-running backup or restore wants; call once at startup.
public enum ProcessTuning {
    /// Tunes the allocator for large, short-lived chunk buffers, so resident memory follows the work in flight.
    public static func configureAllocator() {
        csystem_tune_allocator()
    }
}
