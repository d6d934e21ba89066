// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Buttons that ask before doing something that cannot be undone: data-confirm="question". With
  // data-confirm-if="id of a tick box" the question comes only once that box is ticked; unticked, the
  // form goes to the server, which asks for the tick (so the page works the same without this file).
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      const box = el.dataset.confirmIf ? document.getElementById(el.dataset.confirmIf) : null;
      if (box && !box.checked) return;
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  });
  // Long filter panels fold away on a phone when nothing in them is in use, so the results come first.
  if (window.matchMedia("(max-width: 700px)").matches) {
    document.querySelectorAll("details[data-fold-on-phone]:not([data-in-use])").forEach((el) => {
      el.open = false;
    });
  }
  // A job's page follows its progress; once the job has finished, the page is loaded again to show the outcome
  // (without this file the page reloads itself every few seconds).
  const job = document.querySelector("[data-job-poll]");
  if (job) {
    const bar = job.querySelector("progress");
    const stage = job.querySelector("[data-job-stage]");
    const percent = job.querySelector("[data-job-percent]");
    const poll = () => {
      fetch(job.dataset.jobPoll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((state) => {
          if (state.state === "done" || state.state === "failed") {
            window.location.reload();
            return;
          }
          if (state.total) {
            bar.max = state.total;
            bar.value = state.done;
          }
          stage.textContent = state.stage;
          if (state.percent !== null) percent.textContent = `${state.percent}% done`;
          window.setTimeout(poll, 1000);
        })
        .catch(() => window.setTimeout(poll, 5000));
    };
    window.setTimeout(poll, 500);
  }
  // Move focus to an error summary so keyboard and screen reader users hear it first.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
});
