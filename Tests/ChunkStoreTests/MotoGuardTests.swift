import Foundation
import TestSupport
import Testing

/// On CI the S3 suites must run: a missing moto environment there is a failure, not a silent skip.
@Suite("Moto guard")
struct MotoGuardTests {
    @Test func s3SuitesAreNotSkippedOnCI() {
        let problem = MotoEnvironment.problemOnCI(environment: ProcessInfo.processInfo.environment)
        #expect(problem == nil, "\(problem ?? "")")
    }

    @Test func guardDetectsAMissingEnvironmentOnCI() {
        let moto = [
            MotoEnvironment.endpointVariable: "http://127.0.0.1:5000/", MotoEnvironment.accessKeyVariable: "AKID",
            MotoEnvironment.secretKeyVariable: "secret",
        ]
        #expect(MotoEnvironment.problemOnCI(environment: ["CI": "true"]) != nil)
        #expect(MotoEnvironment.problemOnCI(environment: ["CI": "true", MotoEnvironment.endpointVariable: "x"]) != nil)
        #expect(MotoEnvironment.problemOnCI(environment: moto.merging(["CI": "true"]) { $1 }) == nil)
        #expect(MotoEnvironment.problemOnCI(environment: [:]) == nil, "off CI, skipping is allowed")
        let parsed = MotoEnvironment(environment: moto)
        #expect(parsed?.endpoint == "http://127.0.0.1:5000")
        #expect(parsed?.authority == "127.0.0.1:5000")
    }

    @Test func bucketNamesAreValidAndUnique() {
        let names = (0..<20).map { _ in MotoEnvironment.uniqueBucketName("Some_Label With Spaces and a very long tail")
        }
        #expect(Set(names).count == 20)
        for name in names {
            #expect((3...63).contains(name.count))
            #expect(name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(name)")
        }
    }
}
