import Engine
import Foundation
import Testing

/// The facts a process reads about its machine: which kernel variant runs and how many cores it may
/// use.
@Suite struct MachineTests {
    @Test func cgroupQuotasAreReadFromV2AndV1AndTheSmallestAncestorWins() {
        let files = [
            "/r/cpu.max": "max 100000\n",
            "/r/job/cpu.max": "250000 100000\n",  // 2.5 CPUs
            "/r/job/step/cpu.max": "max 100000\n",
            "/r/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
            "/r/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
            "/r/cpu,cpuacct/slurm/cpu.cfs_quota_us": "150000\n",
            "/r/cpu,cpuacct/slurm/cpu.cfs_period_us": "100000\n",
        ]
        let read = { (path: String) in files[path] }
        #expect(Cores.cgroupQuota(cgroup: "0::/job/step\n", root: "/r", read: read) == 2.5)
        #expect(
            Cores.cgroupQuota(
                cgroup: "4:cpu,cpuacct:/slurm/uid_0\n1:memory:/x\n", root: "/r", read: read) == 1.5)
        #expect(Cores.cgroupQuota(cgroup: "0::/\n", root: "/r", read: read) == nil)
        #expect(Cores.cgroupQuota(cgroup: "4:cpu,cpuacct:/\n", root: "/r", read: read) == nil)
        #expect(Cores.cgroupQuota(cgroup: "garbage", root: "/r", read: read) == nil)
    }

    @Test func theAvailableCoresFollowTheAffinityMask() throws {
        let mask = try #require(Cores.affinityCount())
        #expect(mask >= 1 && Cores.available >= 1 && Cores.available <= mask)
    }

    @Test func variantsAreChosenByNameAndRefusedWhereTheCPULacksThem() {
        #expect(CPU.variants.map { $0.name } == ["avx512", "avx2", "generic"])
        #expect(
            (try? CPU.select(requested: nil, supported: ["avx2", "generic"]).get())?.name == "avx2")
        #expect(
            (try? CPU.select(requested: "GENERIC", supported: ["avx2", "generic"]).get())?.name
                == "generic")
        guard
            case .failure(let unsupported) = CPU.select(
                requested: "avx512", supported: ["avx2", "generic"]),
            case .failure(let unknown) = CPU.select(requested: "sse9", supported: ["generic"])
        else {
            Issue.record("an impossible variant was accepted")
            return
        }
        #expect(unsupported.description.contains("cannot run it"))
        #expect(unknown.description.contains("is not a variant"))
        #expect(CPU.supported.last == "generic")
    }

    /// The suites rerun with PFGM_CPU set (scripts/test) really run that variant.
    @Test func aForcedVariantIsTheOneThatRuns() {
        let requested = ProcessInfo.processInfo.environment[CPU.override] ?? ""
        #expect(CPU.name == (requested.isEmpty ? CPU.supported[0] : requested.lowercased()))
    }
}
