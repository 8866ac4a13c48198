package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"batchinfer/api"
	"batchinfer/client"
)

// A dataset end to end: upload it (resumable), run a job on it, follow it
// and download its output.
func Example() {
	ctx := context.Background()
	c := client.New("http://localhost:8000", "bik_...")
	up, err := c.UploadFile(ctx, "rows.ndjson", client.UploadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	sub, err := c.SubmitUpload(ctx, up.ID, "", client.JobOptions{Model: "digits"})
	if err != nil {
		log.Fatal(err)
	}
	for ev, err := range c.Follow(ctx, sub.Job.ID, client.FollowOptions{ProgressOnly: true}) {
		if err != nil {
			log.Fatal(err)
		}
		if ev.Status != nil {
			fmt.Printf("%s %d/%d\n", ev.Status.State, ev.Status.Done+ev.Status.Failed, ev.Status.Total)
		}
	}
	if _, err := c.Download(ctx, sub.Job.ID, client.FileOutput, "predictions.csv", client.DownloadOptions{Format: "csv"}); err != nil {
		log.Fatal(err)
	}
}

// Errors carry the API's code and the answer's status.
func ExampleClient_Predict() {
	c := client.New("http://localhost:8000", "bik_...")
	p, err := c.Predict(context.Background(), "digits", client.Rows([][]float32{make([]float32, 64)}), client.PredictOptions{})
	var e *api.Error
	switch {
	case errors.As(err, &e) && e.Code == api.CodeUnknownModel:
		log.Fatalf("no such model (HTTP %d): %s", e.Status, e.Message)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(p.Items[0].Label, p.Items[0].Score)
}
