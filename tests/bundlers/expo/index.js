// The entry (package.json "main"), as in Expo's templates.
import { registerRootComponent } from "expo";
import App from "./App";

registerRootComponent(App);
