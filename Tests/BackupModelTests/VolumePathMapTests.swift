import BackupModel
import Testing

@Suite("Volume path maps")
struct VolumePathMapTests {
    @Test("volume path maps use the longest matching prefix and refuse relative paths")
    func pathMap() throws {
        let map = try VolumePathMap(parsing: "/var/lib=/mnt/a,/var/lib/kubelet=/mnt/b")
        #expect(map.localPath("/var/lib/kubelet/pods/x") == "/mnt/b/pods/x")
        #expect(map.localPath("/var/lib/other") == "/mnt/a/other")
        #expect(map.localPath("/var/library") == "/var/library")
        #expect(map.localPath("/srv") == "/srv")
        #expect(throws: FilterError.self) { try VolumePathMap(parsing: "relative=/x") }
        #expect(throws: FilterError.self) { try VolumePathMap(parsing: "/x") }
    }
}
