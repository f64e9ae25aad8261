const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const response = await fetch("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.username.value, password: form.password.value }),
  });
  if (response.ok) {
    location.assign(form.dataset.next || "/ui/");
    return;
  }
  const body = await response.json().catch(() => ({}));
  error.textContent = typeof body.detail === "string" ? body.detail : "Logging in did not work: check the user name and password.";
  error.hidden = false;
  form.password.select();
});
