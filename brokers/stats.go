package brokers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// MemoryUsage is the memory a container target's processes use now, in
// bytes, as the Docker engine reports it: the cgroup's usage less its
// inactive page cache, the figure `docker stats` shows (page cache the
// kernel can drop is not the broker's growth). Targets that are not
// containers: errors.ErrUnsupported.
func (t *Target) MemoryUsage(ctx context.Context) (uint64, error) {
	if t.ctl == nil {
		return 0, errors.ErrUnsupported
	}
	if t.ctl.removed.Load() {
		return 0, errRemoved
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	res, err := cli.ContainerStats(ctx, t.ctl.c.GetContainerID(), client.ContainerStatsOptions{})
	if err != nil {
		return 0, fmt.Errorf("container stats: %w", err)
	}
	defer res.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("container stats: %w", err)
	}
	m := st.MemoryStats
	if m.Usage == 0 {
		// A stopped container, or an engine that does not account memory.
		return 0, fmt.Errorf("container stats: no memory usage reported (is the container running?)")
	}
	// cgroup v2 calls the droppable cache inactive_file, v1 total_inactive_file.
	for _, k := range []string{"inactive_file", "total_inactive_file"} {
		if c, ok := m.Stats[k]; ok && c < m.Usage {
			return m.Usage - c, nil
		}
	}
	return m.Usage, nil
}

// ContainerState describes a container target's state in one line:
// "running", "exited (exit code 139)", "exited (exit code 137, killed for
// lack of memory)", "paused". Targets that are not containers:
// errors.ErrUnsupported.
func (t *Target) ContainerState(ctx context.Context) (string, error) {
	if t.ctl == nil {
		return "", errors.ErrUnsupported
	}
	if t.ctl.removed.Load() {
		return "", errRemoved
	}
	st, err := t.ctl.c.State(ctx)
	if err != nil {
		return "", fmt.Errorf("container state: %w", err)
	}
	s := string(st.Status)
	var notes []string
	if !st.Running && !st.Paused && st.Status != "created" {
		notes = append(notes, fmt.Sprintf("exit code %d", st.ExitCode))
	}
	if st.OOMKilled {
		notes = append(notes, "killed for lack of memory")
	}
	if st.Error != "" {
		notes = append(notes, st.Error)
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s, nil
}
