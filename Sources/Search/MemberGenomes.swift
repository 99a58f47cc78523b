/// The member genomes of one generation, kept as the rollouts sample them, so that the update's
/// statistics need not sample them a second time.
///
/// Slot k holds member k's genome (`genomeCount` elements) once `store(member:genome:)` wrote it
/// during generation `generation`. A member is evaluated by exactly one worker, so each slot has
/// one writer; readers come after the evaluator has joined its threads (which orders the writes
/// before the reads). That discipline is what makes the unchecked `Sendable` sound.
///
/// A genome is a pure function of (state, generation, member): a stored genome equals what
/// `sampleMember(k, into:)` writes, so statistics computed from stored genomes are bit-identical
/// to statistics that regenerate them (tested).
public final class MemberGenomes<Element: BitwiseCopyable & Sendable>: @unchecked Sendable {
    /// M, the slots.
    public let members: Int
    /// The elements of one genome.
    public let genomeCount: Int
    /// The generation whose genomes the slots hold (-1 before the first `begin`).
    public private(set) var generation = -1
    private let storage: UnsafeMutablePointer<Element>
    private let filled: UnsafeMutablePointer<Bool>

    /// Empty slots for `members` genomes of `genomeCount` elements.
    public init(members: Int, genomeCount: Int) {
        precondition(members >= 1 && genomeCount >= 1, "MemberGenomes needs at least one member and one element")
        self.members = members
        self.genomeCount = genomeCount
        storage = .allocate(capacity: members * genomeCount)
        filled = .allocate(capacity: members)
        filled.initialize(repeating: false, count: members)
    }

    deinit {
        storage.deallocate()
        filled.deallocate()
    }

    /// Forgets every stored genome and starts generation `g` (call on one thread, before the
    /// rollouts).
    public func begin(generation g: Int) {
        generation = g
        filled.update(repeating: false, count: members)
    }

    /// Stores member `k`'s genome of the current generation (by the one worker evaluating it).
    public func store(member k: Int, genome: UnsafeBufferPointer<Element>) {
        precondition(k >= 0 && k < members, "member \(k) out of 0..<\(members)")
        precondition(genome.count == genomeCount, "expected \(genomeCount) genome elements, got \(genome.count)")
        guard let source = genome.baseAddress else { return }
        (storage + k * genomeCount).update(from: source, count: genomeCount)
        filled[k] = true
    }

    /// Member `k`'s genome if it was stored during generation `g`, else nil.
    public func genome(member k: Int, generation g: Int) -> UnsafeBufferPointer<Element>? {
        guard g == generation, k >= 0, k < members, filled[k] else { return nil }
        return UnsafeBufferPointer(start: storage + k * genomeCount, count: genomeCount)
    }

    /// The members stored during generation `g`, ascending.
    public func storedMembers(generation g: Int) -> [Int] {
        guard g == generation else { return [] }
        return (0..<members).filter { filled[$0] }
    }
}
