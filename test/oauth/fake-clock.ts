/** A clock tests move by hand. */
export class FakeClock {
  private ms: number
  constructor(start = '2025-01-01T00:00:00.000Z') {
    this.ms = Date.parse(start)
  }
  readonly now = (): Date => new Date(this.ms)
  advance(ms: number): void {
    this.ms += ms
  }
  advanceSeconds(s: number): void {
    this.ms += s * 1000
  }
}
