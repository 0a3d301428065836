// The wire side of agent protocol v1 (docs/agent-protocol.md): subjects, JSON bodies, headers
// and the structured error every Switchboard subject answers with. Nothing here knows what the
// agent does with a task; main.go does.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
)

// Headers the protocol uses.
const (
	headerAuthorization = "Authorization"
	headerSession       = "Sb-Agent-Session"
	headerErrorCode     = "Nats-Service-Error-Code"
	headerError         = "Nats-Service-Error"
)

// subjects names every subject one agent uses under one fleet prefix.
type subjects struct{ prefix, agentID string }

func (s subjects) register() string   { return s.prefix + ".v1.agents.register" }
func (s subjects) deregister() string { return s.prefix + ".v1.agents.deregister" }
func (s subjects) heartbeat() string  { return s.prefix + ".v1.agents.heartbeat." + s.agentID }
func (s subjects) reregister() string { return s.prefix + ".internal.fleet.reregister." + s.agentID }
func (s subjects) take() string       { return s.prefix + ".v1.agents." + s.agentID + ".take" }
func (s subjects) abort() string      { return s.prefix + ".v1.agents." + s.agentID + ".abort" }

// leaseVerb is where keepalive, progress, complete and fail go: the dispatcher that granted the lease.
func (s subjects) leaseVerb(verb, dispatcher string) string {
	return s.prefix + ".v1.agents." + s.agentID + "." + verb + "." + dispatcher
}

// ---- bodies -----------------------------------------------------------------------------------

// Registration is the body of `register` (AgentRegistrationSchema).
type Registration struct {
	AgentID             string            `json:"agentId"`
	Capabilities        []string          `json:"capabilities"`
	Version             string            `json:"version"`
	MaxConcurrency      int               `json:"maxConcurrency"`
	Host                string            `json:"host"`
	Labels              map[string]string `json:"labels"`
	HeartbeatIntervalMs int               `json:"heartbeatIntervalMs"`
	StartedAt           string            `json:"startedAt,omitempty"`
}

// RegisterReply is what `register` answers (fields the agent does not use are left out). An
// older collector may leave out HeartbeatIntervalMs or LeaseMs: each is used only when present.
type RegisterReply struct {
	AgentID             string `json:"agentId"`
	Session             string `json:"session,omitempty"`
	HeartbeatIntervalMs int    `json:"heartbeatIntervalMs,omitempty"`
	LeaseMs             int    `json:"leaseMs,omitempty"`
}

// Heartbeat is published every heartbeat interval (HeartbeatSchema). Leases lists what the agent
// holds, as the protocol documents; collectors that do not read it yet ignore it.
type Heartbeat struct {
	AgentID  string  `json:"agentId"`
	Seq      uint64  `json:"seq"`
	SentAt   int64   `json:"sentAt"`
	Status   string  `json:"status"` // "ready" or "draining"
	InFlight int     `json:"inFlight"`
	Capacity int     `json:"capacity"`
	Leases   []Lease `json:"leases"`
}

// Deregistration is published once, on the way out.
type Deregistration struct {
	AgentID string `json:"agentId"`
	Reason  string `json:"reason"`
}

// Lease names one attempt at a task: only its holder, at this epoch, may change the task.
type Lease struct {
	TaskID   string `json:"taskId"`
	TenantID string `json:"tenantId"`
	Epoch    int64  `json:"epoch"`
}

// TakeRequest long-polls for up to Max tasks, waiting at most WaitMs for the first.
type TakeRequest struct {
	Max    int `json:"max"`
	WaitMs int `json:"waitMs"`
}

// LeasedTask is one task handed to this agent under a lease.
type LeasedTask struct {
	TaskID         string          `json:"taskId"`
	TenantID       string          `json:"tenantId"`
	Capability     string          `json:"capability"`
	Priority       string          `json:"priority"`
	Input          json.RawMessage `json:"input"`
	Metadata       map[string]any  `json:"metadata"`
	IdempotencyKey string          `json:"idempotencyKey"` // key side effects on it
	DeliveryCount  int             `json:"deliveryCount"`  // 1 on the first attempt
	DeadlineAt     string          `json:"deadlineAt"`
	Traceparent    string          `json:"traceparent,omitempty"`
	Lease          Lease           `json:"lease"`
	LeaseExpiresAt string          `json:"leaseExpiresAt"`
	Dispatcher     string          `json:"dispatcher"`
}

// TakeReply answers `take`.
type TakeReply struct {
	Tasks []LeasedTask `json:"tasks"`
}

// KeepAliveRequest extends every listed lease (all granted by the same dispatcher).
type KeepAliveRequest struct {
	Leases []Lease `json:"leases"`
}

// KeepAliveReply says, per task, whether the agent still holds it.
type KeepAliveReply struct {
	Leases []struct {
		TaskID string `json:"taskId"`
		Held   bool   `json:"held"`
		Reason string `json:"reason,omitempty"` // cancelled, timed_out, reclaimed, done
	} `json:"leases"`
}

// ProgressRequest streams anything JSON about a running task.
type ProgressRequest struct {
	Lease    Lease `json:"lease"`
	Progress any   `json:"progress"`
}

// CompleteRequest ends an attempt with a result.
type CompleteRequest struct {
	Lease  Lease `json:"lease"`
	Result any   `json:"result"`
}

// Failure is why an attempt failed. Code: 1-64 of A-Z 0-9 _ . ; Class: agent_error,
// rate_limited, timeout or dependency.
type Failure struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	Class        string `json:"class"`
	Retryable    bool   `json:"retryable"`
	RetryAfterMs *int   `json:"retryAfterMs,omitempty"`
}

// FailRequest ends an attempt with a failure.
type FailRequest struct {
	Lease Lease    `json:"lease"`
	Error *Failure `json:"error"`
}

// OutcomeReply answers complete and fail: succeeded, failed, retrying or dead_lettered.
type OutcomeReply struct {
	Status string `json:"status"`
}

// AbortNotice tells the agent to stop working on a task now.
type AbortNotice struct {
	TaskID   string `json:"taskId"`
	TenantID string `json:"tenantId"`
	Epoch    int64  `json:"epoch"`
	Reason   string `json:"reason"`
}

// ---- errors -----------------------------------------------------------------------------------

// ServiceError is a structured refusal: header Nats-Service-Error-Code (an HTTP-like status)
// and body {"error": {"code", "message", "retryable"}}.
type ServiceError struct {
	Status    string `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

func (e *ServiceError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Status, e.Code, e.Message)
}

// serviceError returns the refusal a reply carries, or nil when it is a result.
func serviceError(m *nats.Msg) *ServiceError {
	status := m.Header.Get(headerErrorCode)
	if status == "" {
		return nil
	}
	var body struct {
		Error ServiceError `json:"error"`
	}
	_ = json.Unmarshal(m.Data, &body) // a refusal without a JSON body still has its headers
	e := body.Error
	e.Status = status
	if e.Message == "" {
		e.Message = m.Header.Get(headerError)
	}
	return &e
}

// ---- the connection as this agent -------------------------------------------------------------

// client sends this agent's messages: JSON bodies, and the session header once there is one.
type client struct {
	nc          *nats.Conn
	credentials string // API key for register (optional)

	mu      sync.RWMutex
	session string
}

func (c *client) setSession(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.session = s
}

func (c *client) message(subject string, body any) (*nats.Msg, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(subject)
	m.Data = data
	c.mu.RLock()
	if c.session != "" {
		m.Header.Set(headerSession, c.session)
	}
	c.mu.RUnlock()
	return m, nil
}

// publish sends an event (heartbeat, progress, deregistration).
func (c *client) publish(subject string, body any) error {
	m, err := c.message(subject, body)
	if err != nil {
		return err
	}
	return c.nc.PublishMsg(m)
}

// request sends a request and decodes its reply into out (when out is not nil). It returns a
// *ServiceError for a refusal, nats.ErrNoResponders when nobody serves the subject, and the
// context's error on timeout.
func (c *client) request(ctx context.Context, subject string, body, out any) error {
	m, err := c.message(subject, body)
	if err != nil {
		return err
	}
	return c.send(ctx, m, out)
}

// register is the one request that also carries the credential.
func (c *client) register(ctx context.Context, subject string, reg Registration) (RegisterReply, error) {
	var reply RegisterReply
	m, err := c.message(subject, reg)
	if err != nil {
		return reply, err
	}
	if c.credentials != "" {
		m.Header.Set(headerAuthorization, "Bearer "+c.credentials)
	}
	err = c.send(ctx, m, &reply)
	return reply, err
}

func (c *client) send(ctx context.Context, m *nats.Msg, out any) error {
	reply, err := c.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return err
	}
	if se := serviceError(reply); se != nil {
		return se
	}
	if out == nil || len(reply.Data) == 0 {
		return nil
	}
	return json.Unmarshal(reply.Data, out)
}
