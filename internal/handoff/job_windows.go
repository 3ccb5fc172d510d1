package handoff

import (
	"os"
	"syscall"
	"unsafe"
)

// Job object limits of SetInformationJobObject.
const (
	jobObjectExtendedLimitInformation = 9
	limitSilentBreakawayOK            = 0x1000 // JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK
	limitKillOnJobClose               = 0x2000 // JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	processSetQuota                   = 0x0100
	processTerminate                  = 0x0001
)

// extendedLimitInformation is JOBOBJECT_EXTENDED_LIMIT_INFORMATION.
type extendedLimitInformation struct {
	PerProcessUserTimeLimit int64
	PerJobUserTimeLimit     int64
	LimitFlags              uint32
	MinimumWorkingSetSize   uintptr
	MaximumWorkingSetSize   uintptr
	ActiveProcessLimit      uint32
	Affinity                uintptr
	PriorityClass           uint32
	SchedulingClass         uint32
	IoInfo                  [6]uint64
	ProcessMemoryLimit      uintptr
	JobMemoryLimit          uintptr
	PeakProcessMemoryUsed   uintptr
	PeakJobMemoryUsed       uintptr
}

var (
	kernel32                     = syscall.NewLazyDLL("kernel32.dll")
	procCreateJobObjectW         = kernel32.NewProc("CreateJobObjectW")
	procSetInformationJobObject  = kernel32.NewProc("SetInformationJobObject")
	procAssignProcessToJobObject = kernel32.NewProc("AssignProcessToJobObject")
)

// bindToFront makes the core p end with the front: a job object that kills
// its processes when its last handle closes, which the front holds until
// it exits, so that killing the command (TerminateProcess) kills the core
// too, as it does on Unix, where they are one process. The core's own
// children break away from the job: a browser a login opens, or the
// command `exec` runs, live on as before. Where that fails the core
// simply runs unbound.
func bindToFront(p *os.Process) {
	job, _, _ := procCreateJobObjectW.Call(0, 0)
	if job == 0 {
		return
	}
	info := extendedLimitInformation{LimitFlags: limitKillOnJobClose | limitSilentBreakawayOK}
	if ok, _, _ := procSetInformationJobObject.Call(job, jobObjectExtendedLimitInformation, uintptr(unsafe.Pointer(&info)), unsafe.Sizeof(info)); ok == 0 {
		syscall.CloseHandle(syscall.Handle(job))
		return
	}
	h, err := syscall.OpenProcess(processSetQuota|processTerminate, false, uint32(p.Pid))
	if err != nil {
		syscall.CloseHandle(syscall.Handle(job))
		return
	}
	defer syscall.CloseHandle(h)
	if ok, _, _ := procAssignProcessToJobObject.Call(job, uintptr(h)); ok == 0 {
		syscall.CloseHandle(syscall.Handle(job))
	}
	// The job's handle stays open until the front exits.
}
