// `mpirun -np P MPISelfTest [--die-rank R]`: checks, on P ranks, every collective that the Cluster
// module's MPIProcessGroup offers, bit for bit, plus its error handling. Prints one line per rank
// that fails a check and exits with status 0 only when every check passed on every rank.
//
// `--die-rank R`: after the checks, rank R kills itself with SIGKILL while the other ranks wait in a
// collective; the job must then end (non-zero status) instead of hanging. With `--in-work` as well,
// rank R (> 0) dies while rank 0 hands out work (point-to-point requests, ProcessGroup.shareWork).
// scripts/test-mpi.sh runs all three modes.
import Cluster
#if MPI
import CMPI
#endif
#if canImport(Glibc)
import Glibc
#endif

#if MPI
func run() -> Int32 {
    let arguments = CommandLine.arguments
    var dieRank: Int? = nil
    if let i = arguments.firstIndex(of: "--die-rank"), i + 1 < arguments.count {
        dieRank = Int(arguments[i + 1])
        if dieRank == nil {
            writeError("MPISelfTest: --die-rank needs an integer, got '\(arguments[i + 1])'")
            return 2
        }
    }
    let group: MPIProcessGroup
    do {
        group = try MPIProcessGroup()
    } catch {
        writeError("MPISelfTest: \(error)")
        return 1
    }
    let r = group.rank, p = group.size
    var failures: [String] = []
    func expect(_ condition: Bool, _ what: @autoclosure () -> String) {
        if !condition { failures.append(what()) }
    }

    do {
        if let env = getenv("OMPI_COMM_WORLD_SIZE"), let n = Int(String(cString: env)) {
            expect(n == p, "size \(p) but OMPI_COMM_WORLD_SIZE=\(n)")
        }
        expect(r >= 0 && r < p, "rank \(r) outside 0..<\(p)")
        try group.barrier()

        // Broadcast from every root; lengths differ by root, root 0 sends nothing.
        for root in 0..<p {
            let payload = (0..<(root * 1000)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ root) }
            let got = try group.broadcast(r == root ? payload : [9, 9, 9], root: root)
            expect(got == payload, "broadcast from root \(root): \(got.count) bytes, expected \(payload.count)")
        }

        // Varying-length byte gather: rank q contributes 3q bytes of value q.
        let bytes = try group.allGather(bytes: [UInt8](repeating: UInt8(r), count: 3 * r))
        expect(bytes.count == p, "allGather(bytes:) returned \(bytes.count) parts")
        for q in 0..<min(p, bytes.count) {
            expect(bytes[q] == [UInt8](repeating: UInt8(q), count: 3 * q), "allGather(bytes:) part \(q) wrong")
        }

        // A large gather (past the shared-memory eager limit, so the single-copy path is used).
        let large = [UInt8](repeating: UInt8(r &* 17 &+ 1), count: 3 << 20)
        let largeParts = try group.allGather(bytes: large)
        for q in 0..<p {
            expect(largeParts.count == p && largeParts[q] == [UInt8](repeating: UInt8(q &* 17 &+ 1), count: 3 << 20),
                   "3 MiB allGather(bytes:) part \(q) wrong")
        }

        // Equal-count Double gather: special values must arrive bit for bit.
        let specials: [Double] = [
            -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity,
            Double(bitPattern: 0x7FF8_0000_DEAD_BEEF), 1.0 / 3.0, Double(r),
        ]
        let doubles = try group.allGather(doubles: specials)
        expect(doubles.count == p * specials.count, "allGather(doubles:) count \(doubles.count)")
        if doubles.count == p * specials.count {
            for q in 0..<p {
                for (i, v) in specials.enumerated() {
                    let expected = i == specials.count - 1 ? Double(q) : v
                    expect(doubles[q * specials.count + i].bitPattern == expected.bitPattern,
                           "allGather(doubles:) rank \(q) value \(i) not bit-identical")
                }
            }
        }

        // Varying-count Double gather, including an empty part on rank 0.
        let varying = try group.allGatherVarying(doubles: (0..<r).map { Double($0) + 0.5 })
        for q in 0..<p {
            expect(varying.count == p && varying[q] == (0..<q).map { Double($0) + 0.5 },
                   "allGatherVarying part \(q) wrong")
        }

        // Exact Int64 sums, with values whose Double sum would round.
        let big: Int64 = (1 << 62) / Int64(p) + 1
        let sums = try group.allReduceSum([Int64(r), -Int64(r) * 7, big, 1 << 53 + 1])
        let rankSum = Int64(p * (p - 1) / 2)
        expect(sums == [rankSum, -7 * rankSum, big * Int64(p), Int64(p) * (1 << 53 + 1)], "allReduceSum \(sums)")

        // Mismatched counts are refused on every rank (no rank is left waiting).
        do {
            _ = try group.allGather(doubles: [Double](repeating: 1, count: r + 1))
            expect(p == 1, "allGather(doubles:) with unequal counts did not throw")
        } catch ClusterError.invalidArgument {
        }

        // MPI_ERRORS_RETURN: an invalid root comes back as an error code, not an abort.
        var value: Int32 = 0
        let code = MPI_Bcast(&value, 1, satr_mpi_int32(), Int32(p + 5), satr_mpi_comm_world())
        expect(code != MPI_SUCCESS, "MPI_Bcast with an invalid root returned MPI_SUCCESS")

        // Point to point: every other rank sends its rank to rank 0, which answers with its square.
        if r == 0 {
            for q in 1..<max(p, 1) {
                let got = try group.receive(from: q, tag: 11, capacity: 8).wait()
                expect(got == [UInt8(q), 0, 0, 0, 0, 0, 0, 0], "message from rank \(q): \(got)")
                try group.send([UInt8(truncatingIfNeeded: q * q)], to: q, tag: 12)
            }
        } else {
            let reply = try group.receive(from: 0, tag: 12, capacity: 8)
            var w = ByteWriter()
            w.write(r)
            try group.send(w.bytes, to: 0, tag: 11)
            expect(try reply.wait() == [UInt8(truncatingIfNeeded: r * r)], "reply from rank 0")
        }
        do {
            _ = try group.send([1], to: r, tag: 1)
            expect(false, "a send to oneself did not throw")
        } catch ClusterError.invalidArgument {
        }

        // Dynamic work sharing, twice: every position exactly once over all ranks.
        for round in 1...2 {
            let count = 1000 * round
            let (taken, report) = try group.shareWork(count: count, round: round) { source -> [Int64] in
                var mine: [Int64] = []
                while let chunk = try source.nextChunk() { mine += chunk.map { Int64($0) } }
                return mine
            }
            let (sum, n) = (taken.reduce(0, +), Int64(taken.count))
            let totals = try group.allReduceSum([sum, n, Int64(report.chunks)])
            let chunks = try ChunkSchedule(count: count, rankCount: p).chunks.count
            expect(totals == [Int64(count * (count - 1) / 2), Int64(count), Int64(chunks)],
                   "shareWork round \(round): sum, count, chunks \(totals)")
        }

        // With --die-rank R --in-work: rank R dies while rank 0 hands out work; the job must end.
        if let dieRank, arguments.contains("--in-work"), dieRank > 0, dieRank < p {
            _ = try group.shareWork(count: 1_000_000, round: 3) { source -> Int in
                var n = 0
                while let chunk = try source.nextChunk() {
                    if r == dieRank, n > 10 {
                        writeError("MPISelfTest rank \(r): killing myself with SIGKILL while sharing work, as asked")
                        kill(getpid(), SIGKILL)
                    }
                    usleep(100)
                    n += chunk.count
                }
                return n
            }
            writeError("MPISelfTest rank \(r): work sharing completed although rank \(dieRank) died")
            return 3
        }

        let traffic = group.traffic
        expect(traffic.collectives > 0 && traffic.bytesReceived > 0, "traffic counters stayed zero")

        // Every rank learns how many checks failed anywhere.
        let failedEverywhere = try group.allReduceSum(Int64(failures.count))
        for f in failures { writeError("MPISelfTest rank \(r): FAILED \(f)") }

        if let dieRank, dieRank >= 0, dieRank < p {
            if r == dieRank {
                writeError("MPISelfTest rank \(r): killing myself with SIGKILL as asked")
                kill(getpid(), SIGKILL)
            }
            // The survivors wait in a collective that can never complete.
            do {
                _ = try group.allGather(bytes: [1, 2, 3])
                writeError("MPISelfTest rank \(r): collective completed although rank \(dieRank) died")
                return 3
            } catch {
                group.abort(code: 4, message: "MPISelfTest rank \(r): stopping because a rank died: \(error)")
            }
        }

        try group.finalize()
        if r == 0 {
            print(failedEverywhere == 0
                  ? "MPI self-test passed on \(p) rank(s): \(traffic.collectives) collectives, \(traffic.bytesReceived) bytes received on rank 0"
                  : "MPI self-test FAILED: \(failedEverywhere) check(s) failed")
        }
        return failedEverywhere == 0 ? 0 : 1
    } catch {
        group.abort(code: 5, message: "MPISelfTest rank \(r): \(error)")
    }
}

func writeError(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

exit(run())
#else
print("MPISelfTest: this build has no MPI support; build with `swift build --traits MPI`.")
exit(2)
#endif
