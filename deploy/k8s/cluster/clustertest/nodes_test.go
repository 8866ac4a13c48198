package clustertest

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kwokmetrics "sigs.k8s.io/kwok/kustomize/metrics/resource"
	kwokusage "sigs.k8s.io/kwok/kustomize/metrics/usage"
	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

// kwokAnnotation marks the nodes kwok simulates.
const kwokAnnotation = "kwok.x-k8s.io/node"

// startKwok runs kwok with its own "fast" stages: nodes become Ready and
// report a heartbeat in their status every 20-45 s (not through a Lease:
// kwok's lease renewals conflict on a busy machine); pods are marked running
// and ready once scheduled (probes are not run), and removed once deleted (a
// pod with a finalizer stays terminating until the finalizer is gone, as
// with a kubelet). kwok also serves each node's kubelet resource metrics
// (/metrics/nodes/NODE/metrics/resource, over TLS), with each container
// using the CPU its pod's annotation kwok.x-k8s.io/usage-cpu says (1m
// without).
func (c *cluster) startKwok() {
	stages := strings.Join([]string{
		nodefast.DefaultNodeInit, nodeheartbeat.DefaultNodeHeartbeat,
		podfast.DefaultPodReady, podfast.DefaultPodComplete, podfast.DefaultPodDelete,
		kwokmetrics.DefaultMetricsResource, kwokusage.DefaultUsageFromAnnotation,
	}, "\n---\n")
	writeFile(c.t, c.path("kwok.yaml"), []byte(stages))
	c.ca.issue(c.t, c.dir, "kwok", certSpec{cn: "kwok", server: true, ips: []string{"127.0.0.1"}})
	c.kwokPort = freePort(c.t)
	c.start("kwok", c.k8s, []string{"kwok",
		"--kubeconfig=" + c.kubeconfig, "--config=" + c.path("kwok.yaml"),
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=" + kwokAnnotation + "=fake",
		"--node-ip=127.0.0.1", "--node-lease-duration-seconds=0",
		fmt.Sprintf("--server-address=127.0.0.1:%d", c.kwokPort),
		"--tls-cert-file=" + c.path("kwok.crt"), "--tls-private-key-file=" + c.path("kwok.key"),
	})
}

func nodeName(i int) string { return fmt.Sprintf("node-%d", i) }

// addNodes registers n nodes for kwok and waits until they are Ready.
func (c *cluster) addNodes(n int) {
	ctx := context.Background()
	for i := 0; i < n; i++ {
		name := nodeName(i)
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("16"),
			corev1.ResourceMemory: resource.MustParse("64Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Annotations: map[string]string{
					kwokAnnotation: "fake",
					// Where metrics-server reads the node's kubelet metrics
					// from kwok (all nodes share its address and port).
					"metrics.k8s.io/resource-metrics-path": "/metrics/nodes/" + name + "/metrics/resource",
				},
				Labels: map[string]string{
					"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
					"type": "kwok",
				},
			},
			Status: corev1.NodeStatus{
				Capacity: capacity, Allocatable: capacity,
				Addresses: []corev1.NodeAddress{
					{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: name},
				},
				DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(c.kwokPort)}},
			},
		}
		if _, err := c.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			c.t.Fatalf("node %s: %v", name, err)
		}
	}
	c.eventually(startTimeout, fmt.Sprintf("%d nodes Ready (kwok)", n), func() (bool, string) {
		nodes, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		ready := 0
		for _, nd := range nodes.Items {
			for _, cond := range nd.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue && !nd.Spec.Unschedulable {
					ready++
				}
			}
		}
		return ready == n, fmt.Sprintf("%d of %d ready", ready, len(nodes.Items))
	}, []string{"get", "nodes", "-o", "yaml"})
}

// storageClass is the cluster's default class: local volumes, made in
// advance (no provisioner), bound when a pod using the claim is scheduled,
// on that pod's node.
const storageClass = "local"

// addStorage makes the default StorageClass and perNode local volumes of
// 10Gi on each of the first nodes.
func (c *cluster) addStorage(nodes, perNode int) {
	ctx := context.Background()
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	retain := corev1.PersistentVolumeReclaimRetain
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        storageClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       "kubernetes.io/no-provisioner",
		VolumeBindingMode: &wait,
		ReclaimPolicy:     &retain,
	}
	if _, err := c.cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		c.t.Fatalf("storage class: %v", err)
	}
	for i := 0; i < nodes; i++ {
		for j := 0; j < perNode; j++ {
			if _, err := c.cs.CoreV1().PersistentVolumes().Create(ctx, localVolume(nodeName(i), j), metav1.CreateOptions{}); err != nil {
				c.t.Fatalf("volume: %v", err)
			}
		}
	}
}

func localVolume(node string, j int) *corev1.PersistentVolume {
	fs := corev1.PersistentVolumeFilesystem
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-disk-%d", node, j)},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              storageClass,
			VolumeMode:                    &fs,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				Local: &corev1.LocalVolumeSource{Path: fmt.Sprintf("/mnt/disks/%d", j)},
			},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{node},
				}}}},
			}},
		},
	}
}
