/**
 * A CPU quantity for requests and limits.
 */
export class Cpu {
  /** Whole or fractional cores (`Cpu.units(8)` is `8`, `Cpu.units(0.5)` is `0.5`). */
  public static units(amount: number): Cpu {
    return new Cpu(`${amount}`);
  }

  /** Thousandths of a core (`Cpu.millis(500)` is `500m`). */
  public static millis(amount: number): Cpu {
    return new Cpu(`${amount}m`);
  }

  /** The quantity as Kubernetes writes it (`8`, `500m`). */
  public readonly amount: string;

  private constructor(amount: string) {
    this.amount = amount;
  }
}
