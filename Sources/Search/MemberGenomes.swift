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
    /// The slots, allocated by the first `begin` (a store no sample uses costs no memory).
    private var storage: UnsafeMutablePointer<Element>?
    private let filled: UnsafeMutablePointer<Bool>

    /// Empty slots for `members` genomes of `genomeCount` elements.
    public init(members: Int, genomeCount: Int) {
        precondition(members >= 1 && genomeCount >= 1, "MemberGenomes needs at least one member and one element")
        self.members = members
        self.genomeCount = genomeCount
        filled = .allocate(capacity: members)
        filled.initialize(repeating: false, count: members)
    }

    deinit {
        storage?.deallocate()
        filled.deallocate()
    }

    /// Forgets every stored genome and starts generation `g` (call on one thread, before the
    /// rollouts).
    public func begin(generation g: Int) {
        if storage == nil { storage = .allocate(capacity: members * genomeCount) }
        generation = g
        filled.update(repeating: false, count: members)
    }

    /// Stores member `k`'s genome of the current generation (by the one worker evaluating it).
    public func store(member k: Int, genome: UnsafeBufferPointer<Element>) {
        precondition(k >= 0 && k < members, "member \(k) out of 0..<\(members)")
        precondition(genome.count == genomeCount, "expected \(genomeCount) genome elements, got \(genome.count)")
        guard let source = genome.baseAddress, let storage else { return }
        (storage + k * genomeCount).update(from: source, count: genomeCount)
        filled[k] = true
    }

    /// Member `k`'s genome if it was stored during generation `g`, else nil.
    public func genome(member k: Int, generation g: Int) -> UnsafeBufferPointer<Element>? {
        guard g == generation, k >= 0, k < members, filled[k], let storage else { return nil }
        return UnsafeBufferPointer(start: storage + k * genomeCount, count: genomeCount)
    }

    /// The members stored during generation `g`, ascending.
    public func storedMembers(generation g: Int) -> [Int] {
        guard g == generation else { return [] }
        return (0..<members).filter { filled[$0] }
    }
}

/// One generation's population as a search strategy hands it out (`SearchStrategy.ask`): what
/// the workers draw members from, and what the strategy reads back for its statistics.
///
/// `draw(member:into:)` writes member k's genome (the strategy's `sampleMember`) and, when the
/// sample keeps genomes (a `MemberGenomes` store), keeps a copy for the statistics, so that they
/// need not draw the member a second time. Which members were kept is part of the sample
/// (`keptMembers`): the statistics of the whole population draw the others again from the same
/// counter streams (bit-identical), and a share of several processes is the members each kept.
public struct PopulationSample<Element: BitwiseCopyable & Sendable>: Sendable {
    /// The generation the members belong to.
    public let generation: Int
    /// M, the members.
    public let populationSize: Int
    /// The elements of one genome.
    public let genomeCount: Int
    private let sampler: @Sendable (Int, UnsafeMutableBufferPointer<Element>) -> Void
    private let store: MemberGenomes<Element>?

    /// The current generation of `strategy`; with `store`, drawn genomes are kept there (its
    /// earlier contents are forgotten).
    init<S: SearchStrategy>(strategy: S, store: MemberGenomes<Element>?) where S.GenomeElement == Element {
        generation = strategy.generation
        populationSize = strategy.populationSize
        genomeCount = strategy.genomeCount
        sampler = { strategy.sampleMember($0, into: $1) }
        if let store {
            precondition(store.members >= populationSize && store.genomeCount == genomeCount, "the store has another shape")
            if store.generation != generation { store.begin(generation: generation) }
        }
        self.store = store
    }

    /// Writes member `k`'s genome into `genome` (`genomeCount` elements) and keeps a copy when the
    /// sample keeps genomes. Each member is drawn by one worker.
    public func draw(member k: Int, into genome: UnsafeMutableBufferPointer<Element>) {
        sampler(k, genome)
        store?.store(member: k, genome: UnsafeBufferPointer(genome))
    }

    /// Whether drawn genomes are kept.
    public var keepsGenomes: Bool { store != nil }

    /// Member `k`'s genome if it was drawn and kept, else nil (read after the workers joined).
    public func kept(member k: Int) -> UnsafeBufferPointer<Element>? {
        store?.genome(member: k, generation: generation)
    }

    /// The members drawn and kept, ascending.
    public var keptMembers: [Int] { store?.storedMembers(generation: generation) ?? [] }
}
