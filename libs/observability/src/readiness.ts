/** Dependencies register a readiness probe here; /health/ready runs them all. */
export interface ReadinessCheck {
  name: string;
  /** Resolve with details when healthy, throw when not. */
  check(): Promise<Record<string, unknown> | void>;
}

export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  register(check: ReadinessCheck): void {
    this.checks.set(check.name, check);
  }
  all(): ReadinessCheck[] {
    return [...this.checks.values()];
  }
}
