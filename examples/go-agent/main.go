// Command go-agent is an example Switchboard agent written in Go. It joins a fleet with nothing
// but a NATS connection and JSON, as agent protocol v1 describes (docs/agent-protocol.md):
//
//   - register with its API key (`agent` scope, SB_AGENT_KEY) and keep the session the reply
//     carries: every later message sends it in Sb-Agent-Session;
//   - heartbeat from its own goroutine; register again when the collector asks;
//   - long-poll `take` for leased tasks, run each in a goroutine, keep the leases alive, stream
//     progress, and end each attempt with `complete` or `fail` at the dispatcher that granted it;
//   - stop a task when told (abort notice, a lease no longer held, a dispatcher gone);
//   - on SIGTERM/SIGINT stop taking, let running tasks finish, deregister and exit 0.
//
// It implements three capabilities: go-echo, go-sleep and go-fail (see the end of this file).
// Every notable event is one JSON line on stdout. Wire types and helpers are in protocol.go.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

const (
	version = "0.1.0"
	// How long one `take` waits for work, and how much longer its request may take.
	takeWait  = 5 * time.Second
	takeSlack = 3 * time.Second
	// On shutdown, running tasks get this long to finish; then they are failed (retryable).
	shutdownGrace = 10 * time.Second
	// Retry delays (registration, a refused or failed take) double from first to max.
	firstBackoff = 250 * time.Millisecond
	maxBackoff   = 5 * time.Second
	// Until a lease's length is known, assume a short one (keepalives every second).
	defaultLeaseMs = 3_000
	// The most leases one keepalive request may list.
	maxLeasesPerKeepalive = 1024
	// Why the agent itself stopped a task (the others are the protocol's reasons).
	stopShutdown       = "shutdown"
	stopDispatcherGone = "dispatcher_gone"
	stopLeaseExpired   = "lease_expired"
)

// ---- configuration --------------------------------------------------------------------------

type config struct {
	natsURL      string
	prefix       string
	agentID      string
	capabilities []string
	concurrency  int
	credentials  string
	natsCreds    string // a .creds file (POST /v1/nats/credentials, role agent); empty: a server without auth
	heartbeat    time.Duration
}

var (
	agentIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// Words an agent id may not be: they share subject positions with the protocol's verbs.
	reservedIDs = map[string]bool{"up": true, "down": true, "left": true, "heartbeat": true, "metrics": true,
		"register": true, "deregister": true, "fleet": true, "take": true, "keepalive": true, "progress": true,
		"complete": true, "fail": true, "abort": true}
	notIDChar = regexp.MustCompile(`[^A-Za-z0-9_-]`)
)

func loadConfig() (config, error) {
	// credentials: the fleet's agent key (AGENT_CREDENTIALS is its former name).
	cfg := config{
		natsURL:     envOr("NATS_URL", nats.DefaultURL),
		prefix:      envOr("SB_PREFIX", "sb"),
		agentID:     envOr("AGENT_ID", defaultAgentID()),
		credentials: envOr("SB_AGENT_KEY", strings.TrimSpace(os.Getenv("AGENT_CREDENTIALS"))),
		natsCreds:   strings.TrimSpace(os.Getenv("NATS_CREDS")),
	}
	for _, c := range strings.Split(envOr("AGENT_CAPABILITIES", "go-echo"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			cfg.capabilities = append(cfg.capabilities, c)
		}
	}
	var err error
	if cfg.concurrency, err = envInt("AGENT_CONCURRENCY", 4, 1, 100_000); err != nil {
		return cfg, err
	}
	beatMs, err := envInt("AGENT_HEARTBEAT_MS", 1_000, 100, 60_000)
	if err != nil {
		return cfg, err
	}
	cfg.heartbeat = time.Duration(beatMs) * time.Millisecond

	if strings.ContainsAny(cfg.prefix, " *>") || cfg.prefix == "" {
		return cfg, fmt.Errorf("SB_PREFIX %q is not a subject prefix", cfg.prefix)
	}
	if !agentIDPattern.MatchString(cfg.agentID) || reservedIDs[cfg.agentID] {
		return cfg, fmt.Errorf("AGENT_ID %q: 1-64 of A-Z a-z 0-9 _ -, and not a reserved word", cfg.agentID)
	}
	if cfg.credentials == "" {
		return cfg, errors.New("SB_AGENT_KEY is not set: agents register with an API key holding the agent scope")
	}
	if len(cfg.capabilities) == 0 {
		return cfg, errors.New("AGENT_CAPABILITIES is empty")
	}
	for _, c := range cfg.capabilities {
		if handlers[c] == nil {
			return cfg, fmt.Errorf("AGENT_CAPABILITIES: this agent does not implement %q (it has go-echo, go-sleep, go-fail)", c)
		}
	}
	return cfg, nil
}

func envOr(name, fallback string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return fallback
}

func envInt(name string, fallback, lo, hi int) (int, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: want an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// defaultAgentID is hostname-pid, kept to the characters an agent id may have.
func defaultAgentID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "go-agent"
	}
	id := notIDChar.ReplaceAllString(host, "-") + "-" + strconv.Itoa(os.Getpid())
	if len(id) > 64 {
		id = id[len(id)-64:]
	}
	return id
}

// ---- logging: one JSON line per event --------------------------------------------------------

var (
	logMu      sync.Mutex
	logAgentID string
)

// logEvent writes {"time", "level", "msg", "agentId", ...fields} as one line on stdout.
func logEvent(level, msg string, fields ...any) {
	line := map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "level": level, "msg": msg}
	if logAgentID != "" {
		line["agentId"] = logAgentID
	}
	for i := 0; i+1 < len(fields); i += 2 {
		v := fields[i+1]
		if err, ok := v.(error); ok {
			v = err.Error()
		}
		line[fmt.Sprint(fields[i])] = v
	}
	b, err := json.Marshal(line)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"level": "error", "msg": "unloggable event: " + msg})
	}
	logMu.Lock()
	defer logMu.Unlock()
	_, _ = os.Stdout.Write(append(b, '\n'))
}

// errorFields describes a request's error for the log: a refusal's code, or what went wrong.
func errorFields(err error) []any {
	var se *ServiceError
	switch {
	case errors.As(err, &se):
		return []any{"code", se.Code, "status", se.Status, "retryable", se.Retryable, "err", se.Message}
	case errors.Is(err, nats.ErrNoResponders):
		return []any{"err", "no responders"}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return []any{"err", "timed out"}
	default:
		return []any{"err", err}
	}
}

// ---- the agent -------------------------------------------------------------------------------

// runningTask is a leased task this agent is working on.
type runningTask struct {
	LeasedTask
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	stopped   string    // why the agent was told to stop it; "" while it may run
	expiresAt time.Time // when the lease ends unless kept alive (by this agent's clock)
}

// stop cancels the task's context; the first reason wins. It says whether this call stopped it.
func (t *runningTask) stop(reason string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped != "" {
		return false
	}
	t.stopped = reason
	t.cancel()
	return true
}

func (t *runningTask) stopReason() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}

type agent struct {
	cfg       config
	subj      subjects
	bus       *client
	startedAt string

	heartbeatMs atomic.Int64 // the interval (the register reply may change it)
	leaseMs     atomic.Int64 // how long a lease lasts without a keepalive
	draining    atomic.Bool  // shutting down: take nothing more, beat "draining"

	registering sync.Mutex // one registration at a time

	mu        sync.Mutex
	running   map[string]*runningTask // by task id
	tasks     sync.WaitGroup          // one per running task
	slotFreed chan struct{}           // a task finished: the take loop may ask for more
}

func newAgent(cfg config, nc *nats.Conn) *agent {
	a := &agent{
		cfg:       cfg,
		subj:      subjects{prefix: cfg.prefix, agentID: cfg.agentID},
		bus:       &client{nc: nc, credentials: cfg.credentials},
		startedAt: time.Now().UTC().Format(time.RFC3339Nano),
		running:   map[string]*runningTask{},
		slotFreed: make(chan struct{}, 1),
	}
	a.heartbeatMs.Store(cfg.heartbeat.Milliseconds())
	a.leaseMs.Store(defaultLeaseMs)
	return a
}

// ---- registration ------------------------------------------------------------------------------

func (a *agent) registration() Registration {
	host, _ := os.Hostname()
	if len(host) > 253 {
		host = host[:253]
	}
	return Registration{
		AgentID:             a.cfg.agentID,
		Capabilities:        a.cfg.capabilities,
		Version:             version,
		MaxConcurrency:      a.cfg.concurrency,
		Host:                host,
		Labels:              map[string]string{"language": "go", "runtime": runtime.Version()},
		HeartbeatIntervalMs: int(a.cfg.heartbeat.Milliseconds()),
		StartedAt:           a.startedAt,
	}
}

// register sends the registration until it is accepted (or ctx ends), backing off between tries.
// Registering again is fine: it carries the session this agent already has.
func (a *agent) register(ctx context.Context) error {
	a.registering.Lock()
	defer a.registering.Unlock()
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		reply, err := a.bus.register(rctx, a.subj.register(), a.registration())
		cancel()
		if err == nil {
			if reply.Session != "" {
				a.bus.setSession(reply.Session)
			}
			if reply.HeartbeatIntervalMs > 0 {
				a.heartbeatMs.Store(int64(reply.HeartbeatIntervalMs))
			}
			if reply.LeaseMs > 0 {
				a.leaseMs.Store(int64(reply.LeaseMs))
			}
			logEvent("info", "registered", "capabilities", a.cfg.capabilities, "session", reply.Session != "", "attempt", attempt)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logEvent("warn", "registration failed; retrying", append(errorFields(err), "attempt", attempt, "retryInMs", backoff.Milliseconds())...)
		if !sleepCtx(ctx, backoff) {
			return ctx.Err()
		}
		backoff = nextBackoff(backoff)
	}
}

// onReregister: the collector lost this agent's state and asks for the registration again.
func (a *agent) onReregister(ctx context.Context) nats.MsgHandler {
	return func(*nats.Msg) {
		logEvent("info", "the collector asked to register again")
		go func() { _ = a.register(ctx) }()
	}
}

// ---- heartbeats ---------------------------------------------------------------------------------

// heartbeats publishes one beat now and one every interval until ctx ends, whatever the tasks do.
func (a *agent) heartbeats(ctx context.Context) {
	var seq uint64
	for {
		status, capacity := "ready", a.cfg.concurrency
		if a.draining.Load() {
			status, capacity = "draining", 0
		}
		leases := a.leases()
		beat := Heartbeat{AgentID: a.cfg.agentID, Seq: seq, SentAt: time.Now().UnixMilli(), Status: status,
			InFlight: a.inFlight(), Capacity: capacity, Leases: leases}
		if err := a.bus.publish(a.subj.heartbeat(), beat); err != nil {
			logEvent("warn", "heartbeat not sent", "err", err)
		}
		seq++
		if !sleepCtx(ctx, time.Duration(a.heartbeatMs.Load())*time.Millisecond) {
			return
		}
	}
}

func (a *agent) inFlight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.running)
}

// leases lists the leases of the tasks still being worked on.
func (a *agent) leases() []Lease {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Lease, 0, len(a.running))
	for _, t := range a.running {
		if t.stopReason() == "" {
			out = append(out, t.Lease)
		}
	}
	return out
}

// ---- taking work --------------------------------------------------------------------------------

// takeLoop asks for as many tasks as there are free slots until stop is closed (life bounds the
// registrations it may start). A take already sent is always answered and its tasks run: a
// lease granted to a request nobody reads would otherwise sit until it expires.
func (a *agent) takeLoop(life context.Context, stop <-chan struct{}) {
	backoff := firstBackoff
	for {
		select {
		case <-stop:
			return
		default:
		}
		free := a.cfg.concurrency - a.inFlight()
		if free <= 0 {
			select { // wait for a slot
			case <-stop:
				return
			case <-a.slotFreed:
			}
			continue
		}
		tasks, err := a.take(free)
		if err != nil {
			msg := "take failed; retrying"
			if errors.Is(err, nats.ErrNoResponders) {
				msg = "no dispatcher answers take (is a gateway running?); retrying"
			}
			logEvent("warn", msg, append(errorFields(err), "retryInMs", backoff.Milliseconds())...)
			var se *ServiceError
			if errors.As(err, &se) && se.Code == "AGENT.NOT_CAPABLE" && backoff >= time.Second {
				// Refused for a while (not just the dispatcher catching up with a fresh registration):
				// it does not know this agent, e.g. its registration was lost. Register again.
				go func() { _ = a.register(life) }()
			}
			select {
			case <-stop:
				return
			case <-time.After(backoff):
			}
			backoff = nextBackoff(backoff)
			continue
		}
		backoff = firstBackoff
		for _, t := range tasks {
			a.start(t)
		}
	}
}

func (a *agent) take(n int) ([]LeasedTask, error) {
	ctx, cancel := context.WithTimeout(context.Background(), takeWait+takeSlack)
	defer cancel()
	var reply TakeReply
	err := a.bus.request(ctx, a.subj.take(), TakeRequest{Max: n, WaitMs: int(takeWait.Milliseconds())}, &reply)
	return reply.Tasks, err
}

// start runs a leased task in its own goroutine.
func (a *agent) start(t LeasedTask) {
	// The lease's length, learned from each task's expiry (the register reply may say too).
	if exp, err := time.Parse(time.RFC3339Nano, t.LeaseExpiresAt); err == nil {
		if ms := time.Until(exp).Milliseconds(); ms > 0 {
			a.leaseMs.Store(ms)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	rt := &runningTask{LeasedTask: t, ctx: ctx, cancel: cancel, expiresAt: time.Now().Add(a.leaseDuration())}
	a.mu.Lock()
	a.running[t.TaskID] = rt
	a.mu.Unlock()
	a.tasks.Add(1)
	logEvent("info", "task started", "taskId", t.TaskID, "tenantId", t.TenantID, "capability", t.Capability, "deliveryCount", t.DeliveryCount,
		"epoch", t.Lease.Epoch, "dispatcher", t.Dispatcher)
	go a.run(rt)
}

func (a *agent) leaseDuration() time.Duration {
	return time.Duration(a.leaseMs.Load()) * time.Millisecond
}

// run executes one task and reports its outcome to the dispatcher that granted the lease.
func (a *agent) run(rt *runningTask) {
	defer a.finished(rt)
	result, failure := a.execute(rt)
	switch reason := rt.stopReason(); {
	case reason == stopShutdown && failure != nil:
		// Cut short by shutdown: fail it retryably so another agent takes it now rather than
		// after the lease runs out (the protocol has no verb to hand a lease back untouched).
		failure = &Failure{Code: "GO.SHUTDOWN", Message: "the agent shut down before the task finished", Class: "agent_error", Retryable: true}
	case reason != "" && reason != stopShutdown:
		// The lease ended (cancelled, timed out, reclaimed, dispatcher gone): a result would be refused.
		logEvent("info", "task dropped: lease ended", "taskId", rt.TaskID, "reason", reason)
		return
	}
	a.report(rt, result, failure)
}

// execute calls the capability's handler; a panic fails the task instead of the agent.
func (a *agent) execute(rt *runningTask) (result any, failure *Failure) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if len(msg) > 1024 { // the protocol takes at most 4096 characters
				msg = msg[:1024]
			}
			failure = &Failure{Code: "GO.PANIC", Message: msg, Class: "agent_error", Retryable: false}
		}
	}()
	h := handlers[rt.Capability]
	if h == nil { // take only hands out registered capabilities; this is a guard
		return nil, &Failure{Code: "GO.NOT_CAPABLE", Message: "no handler for " + rt.Capability, Class: "agent_error"}
	}
	return h(rt.ctx, &rt.LeasedTask, func(p any) { a.progress(rt, p) })
}

// progress streams a progress update (publish: the dispatcher rate-limits and answers nothing).
func (a *agent) progress(rt *runningTask, p any) {
	if rt.ctx.Err() != nil {
		return
	}
	if err := a.bus.publish(a.subj.leaseVerb("progress", rt.Dispatcher), ProgressRequest{Lease: rt.Lease, Progress: p}); err != nil {
		logEvent("warn", "progress not sent", "taskId", rt.TaskID, "err", err)
	}
}

// report ends the attempt: complete with the result, or fail with the failure.
func (a *agent) report(rt *runningTask, result any, failure *Failure) {
	verb, body := "complete", any(CompleteRequest{Lease: rt.Lease, Result: result})
	if failure != nil {
		verb, body = "fail", FailRequest{Lease: rt.Lease, Error: failure}
	}
	subject := a.subj.leaseVerb(verb, rt.Dispatcher)
	for attempt := 1; attempt <= 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var out OutcomeReply
		err := a.bus.request(ctx, subject, body, &out)
		cancel()
		switch {
		case err == nil:
			fields := []any{"taskId", rt.TaskID, "verb", verb, "status", out.Status, "deliveryCount", rt.DeliveryCount}
			if failure != nil {
				fields = append(fields, "code", failure.Code, "retryable", failure.Retryable)
			}
			logEvent("info", "task reported", fields...)
			return
		case errors.Is(err, context.DeadlineExceeded):
			// Unknown whether it was stored; sending it again is safe (a repeat is refused).
			logEvent("warn", "no reply to "+verb+"; sending it again", "taskId", rt.TaskID, "attempt", attempt)
		case errors.Is(err, nats.ErrNoResponders):
			logEvent("warn", "lease lost: the dispatcher that granted it is gone", "taskId", rt.TaskID, "verb", verb)
			return
		default:
			logEvent("warn", verb+" refused", append(errorFields(err), "taskId", rt.TaskID)...)
			return
		}
	}
}

// finished frees the task's slot.
func (a *agent) finished(rt *runningTask) {
	rt.cancel()
	a.mu.Lock()
	delete(a.running, rt.TaskID)
	a.mu.Unlock()
	select { // wake the take loop if it waits for a slot
	case a.slotFreed <- struct{}{}:
	default:
	}
	a.tasks.Done()
}

// stopTask tells a task's handler to stop (its context is cancelled) and logs why.
func (a *agent) stopTask(rt *runningTask, msg, reason string) {
	if rt.stop(reason) {
		logEvent("info", msg, "taskId", rt.TaskID, "reason", reason, "epoch", rt.Lease.Epoch)
	}
}

// stopAll stops every running task (shutdown, at the end of the grace period).
func (a *agent) stopAll(reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, rt := range a.running {
		a.stopTask(rt, "task stopped", reason)
	}
}

// ---- leases: keepalive and abort notices --------------------------------------------------------

// keepLeasesAlive extends every held lease every leaseMs/3, one request per dispatcher.
func (a *agent) keepLeasesAlive(ctx context.Context) {
	for {
		every := a.leaseDuration() / 3
		if every < 100*time.Millisecond {
			every = 100 * time.Millisecond
		}
		if !sleepCtx(ctx, every) {
			return
		}
		byDispatcher := map[string][]*runningTask{}
		a.mu.Lock()
		for _, rt := range a.running {
			if rt.stopReason() == "" {
				byDispatcher[rt.Dispatcher] = append(byDispatcher[rt.Dispatcher], rt)
			}
		}
		a.mu.Unlock()
		for dispatcher, tasks := range byDispatcher {
			for len(tasks) > 0 {
				n := len(tasks)
				if n > maxLeasesPerKeepalive {
					n = maxLeasesPerKeepalive
				}
				a.keepAlive(dispatcher, tasks[:n])
				tasks = tasks[n:]
			}
		}
	}
}

func (a *agent) keepAlive(dispatcher string, tasks []*runningTask) {
	byID := make(map[string]*runningTask, len(tasks))
	req := KeepAliveRequest{Leases: make([]Lease, 0, len(tasks))}
	for _, rt := range tasks {
		byID[rt.TaskID] = rt
		req.Leases = append(req.Leases, rt.Lease)
	}
	sent := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var reply KeepAliveReply
	err := a.bus.request(ctx, a.subj.leaseVerb("keepalive", dispatcher), req, &reply)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		// The dispatcher is gone, and with it these leases: another agent gets the tasks.
		for _, rt := range tasks {
			a.stopTask(rt, "lease lost", stopDispatcherGone)
		}
	case err != nil:
		logEvent("warn", "keepalive failed", append(errorFields(err), "dispatcher", dispatcher)...)
		for _, rt := range tasks { // without an answer, a lease past its end is lost
			rt.mu.Lock()
			expired := time.Now().After(rt.expiresAt)
			rt.mu.Unlock()
			if expired {
				a.stopTask(rt, "lease lost", stopLeaseExpired)
			}
		}
	default:
		for _, l := range reply.Leases {
			rt := byID[l.TaskID]
			if rt == nil {
				continue
			}
			if l.Held {
				rt.mu.Lock()
				rt.expiresAt = sent.Add(a.leaseDuration())
				rt.mu.Unlock()
				continue
			}
			reason := l.Reason
			if reason == "" {
				reason = "not_held"
			}
			a.stopTask(rt, "lease lost", reason)
		}
	}
}

// onAbort: the control plane ended a task this agent holds (cancelled, timed out, reclaimed).
func (a *agent) onAbort(m *nats.Msg) {
	var n AbortNotice
	if err := json.Unmarshal(m.Data, &n); err != nil {
		logEvent("warn", "unreadable abort notice", "err", err)
		return
	}
	a.mu.Lock()
	rt := a.running[n.TaskID]
	a.mu.Unlock()
	if rt == nil || rt.Lease.Epoch != n.Epoch {
		logEvent("info", "abort notice for a lease not held here", "taskId", n.TaskID, "epoch", n.Epoch, "reason", n.Reason)
		return
	}
	a.stopTask(rt, "task aborted", n.Reason)
}

// ---- main: connect, register, work, shut down --------------------------------------------------

func main() {
	cfg, err := loadConfig()
	if err != nil {
		logEvent("error", "bad configuration", "err", err)
		os.Exit(2)
	}
	logAgentID = cfg.agentID
	os.Exit(run(cfg))
}

// inboxPrefixOfCreds: the private inbox prefix a Switchboard NATS user may receive replies on,
// `_INBOX_<user public key>` (the user JWT's `sub`).
func inboxPrefixOfCreds(file string) (string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	m := credsJWT.FindSubmatch(raw)
	if m == nil {
		return "", errors.New("not a NATS .creds file (no user JWT block)")
	}
	parts := strings.Split(string(m[1]), ".")
	if len(parts) != 3 {
		return "", errors.New("the user JWT is malformed")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", err
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || !strings.HasPrefix(claims.Sub, "U") {
		return "", errors.New("the user JWT names no user key")
	}
	return "_INBOX_" + claims.Sub, nil
}

var credsJWT = regexp.MustCompile(`-----BEGIN NATS USER JWT-----\s*([A-Za-z0-9_\-.]+)\s*-+END NATS USER JWT-+`)

func run(cfg config) int {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)

	closed := make(chan struct{})
	var auth []nats.Option
	if cfg.natsCreds != "" {
		inbox, err := inboxPrefixOfCreds(cfg.natsCreds)
		if err != nil {
			logEvent("error", "cannot read NATS_CREDS", "err", err)
			return 1
		}
		// Switchboard's NATS users may receive replies only under their own inbox prefix.
		auth = append(auth, nats.UserCredentials(cfg.natsCreds), nats.CustomInboxPrefix(inbox))
	}
	nc, err := nats.Connect(cfg.natsURL, append(auth,
		nats.Name("switchboard-go-agent "+cfg.agentID),
		nats.MaxReconnects(-1), // reconnect forever...
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true), // ...also when the server is not up yet
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: our own Drain or Close
				logEvent("warn", "disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { logEvent("info", "reconnected to NATS", "url", c.ConnectedUrl()) }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	)...)
	if err != nil {
		logEvent("error", "cannot connect to NATS", "url", cfg.natsURL, "err", err)
		return 1
	}
	a := newAgent(cfg, nc)

	// life ends when the agent is done; background goroutines (beats, keepalives) stop earlier.
	life, endLife := context.WithCancel(context.Background())
	defer endLife()
	// Subscribe before registering, so no notice is missed once registered.
	if _, err := nc.Subscribe(a.subj.abort(), a.onAbort); err != nil {
		logEvent("error", "cannot subscribe", "subject", a.subj.abort(), "err", err)
		return 1
	}
	if _, err := nc.Subscribe(a.subj.reregister(), a.onReregister(life)); err != nil {
		logEvent("error", "cannot subscribe", "subject", a.subj.reregister(), "err", err)
		return 1
	}

	// The first signal starts a graceful shutdown; a second one exits at once.
	stopping := make(chan struct{})
	starting, stopStarting := context.WithCancel(context.Background())
	var stopAt time.Time
	go func() {
		sig := <-signals
		logEvent("info", "shutting down", "signal", sig.String(), "inFlight", a.inFlight())
		stopAt = time.Now()
		a.draining.Store(true)
		stopStarting()
		close(stopping)
		<-signals
		logEvent("warn", "second signal: exiting now")
		os.Exit(1)
	}()

	if err := a.register(starting); err != nil {
		nc.Close() // stopped before it ever registered
		return 0
	}
	background, stopBackground := context.WithCancel(life)
	defer stopBackground()
	go a.heartbeats(background)
	go a.keepLeasesAlive(background)
	logEvent("info", "go agent taking tasks", "capabilities", cfg.capabilities, "concurrency", cfg.concurrency,
		"prefix", cfg.prefix, "natsUrl", cfg.natsURL)

	a.takeLoop(life, stopping) // returns after the first signal, once the last take is answered

	// Let running tasks finish within the grace period, then stop (and fail) the rest.
	if !waitTimeout(&a.tasks, time.Until(stopAt.Add(shutdownGrace))) {
		logEvent("warn", "tasks still running at the end of the grace period; stopping them", "inFlight", a.inFlight())
		a.stopAll(stopShutdown)
		waitTimeout(&a.tasks, 5*time.Second)
	}
	stopBackground()
	if err := a.bus.publish(a.subj.deregister(), Deregistration{AgentID: cfg.agentID, Reason: "shutdown"}); err != nil {
		logEvent("warn", "deregistration not sent", "err", err)
	}
	endLife()
	// Drain: flush what is pending (the deregistration), then close.
	if err := nc.Drain(); err != nil {
		nc.Close()
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		nc.Close()
	}
	logEvent("info", "go agent stopped")
	return 0
}

// ---- small helpers ------------------------------------------------------------------------------

// sleepCtx waits d, or less if ctx ends first; it says whether the full wait happened.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func nextBackoff(d time.Duration) time.Duration {
	if d *= 2; d > maxBackoff {
		return maxBackoff
	}
	return d
}

// waitTimeout waits for wg at most d; it says whether wg finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// ---- capabilities -------------------------------------------------------------------------------

// handler runs one task: it returns a result (any JSON value) or a failure, and must return soon
// after ctx is cancelled. progress streams an update to the task's watchers.
type handler func(ctx context.Context, t *LeasedTask, progress func(any)) (any, *Failure)

var handlers = map[string]handler{
	"go-echo":  echoTask,
	"go-sleep": sleepTask,
	"go-fail":  failTask,
}

// echoTask answers {"echo": <input>, "agent": "go"}.
func echoTask(_ context.Context, t *LeasedTask, _ func(any)) (any, *Failure) {
	return map[string]any{"echo": t.Input, "agent": "go"}, nil
}

// sleepTask sleeps {"ms": N} milliseconds, reporting progress about every 200 ms, and stops
// early when cancelled. Result: {"slept": N}.
func sleepTask(ctx context.Context, t *LeasedTask, progress func(any)) (any, *Failure) {
	var in struct {
		Ms *int `json:"ms"`
	}
	if err := json.Unmarshal(t.Input, &in); err != nil || in.Ms == nil || *in.Ms < 0 {
		return nil, &Failure{Code: "GO.BAD_INPUT", Message: `go-sleep wants {"ms": N}, N >= 0`, Class: "agent_error"}
	}
	started := time.Now()
	done := time.NewTimer(time.Duration(*in.Ms) * time.Millisecond)
	defer done.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, &Failure{Code: "GO.STOPPED", Message: "stopped before it finished", Class: "agent_error", Retryable: true}
		case <-done.C:
			return map[string]any{"slept": *in.Ms}, nil
		case <-tick.C:
			progress(map[string]any{"sleptMs": time.Since(started).Milliseconds(), "ms": *in.Ms})
		}
	}
}

// failTask fails with GO.FAILED, retryable as {"retryable": bool} says.
func failTask(_ context.Context, t *LeasedTask, _ func(any)) (any, *Failure) {
	var in struct {
		Retryable bool `json:"retryable"`
	}
	_ = json.Unmarshal(t.Input, &in)
	return nil, &Failure{
		Code:      "GO.FAILED",
		Message:   fmt.Sprintf("go-fail failed on purpose (attempt %d)", t.DeliveryCount),
		Class:     "agent_error",
		Retryable: in.Retryable,
	}
}
